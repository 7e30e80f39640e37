import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { settings } from '../db/settings-schema.ts';

const KEY = 'scheduler.since';

/**
 * The instant the platform first started on this database, kept in `settings`: jobs that
 * never ran start from it, so a restart never skips a midnight that passed meanwhile.
 */
export async function schedulerSince(db: Db, now: Date): Promise<Date> {
  await db.insert(settings).values({ key: KEY, value: now.toISOString(), updatedAt: now }).onConflictDoNothing();
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, KEY));
  return typeof row?.value === 'string' ? new Date(row.value) : now;
}
