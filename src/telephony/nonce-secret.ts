import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { settings } from '../db/settings-schema.ts';

const KEY = 'sip.nonceSecret';

/**
 * The HMAC key of SIP digest nonces: `E2P_SECRET` when set, otherwise one
 * generated once and kept in `settings` (`sip.nonceSecret`), so that nonces
 * survive a restart and every SIP node of the database accepts them.
 */
export async function sipNonceSecret(db: Db, configured: string | undefined, now: Date): Promise<string> {
  if (configured !== undefined) return configured;
  await db.insert(settings).values({ key: KEY, value: randomBytes(32).toString('base64url'), updatedAt: now }).onConflictDoNothing();
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, KEY));
  if (typeof row?.value !== 'string' || row.value.length < 32) throw new Error(`setting ${KEY} is missing or malformed`);
  return row.value;
}
