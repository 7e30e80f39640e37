/** §8.1: the day of the month of the billing run (setting `billing.billingDay`, default 28, 1..28). */
import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { settings } from '../../db/settings-schema.ts';

export const DEFAULT_BILLING_DAY = 28;
const KEY = 'billing.billingDay';

export const isBillingDay = (day: unknown): day is number => typeof day === 'number' && Number.isInteger(day) && day >= 1 && day <= 28;

export async function billingDayOf(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, KEY));
  return isBillingDay(row?.value) ? row.value : DEFAULT_BILLING_DAY;
}

export async function setBillingDay(db: DbOrTx, day: number, at: Date): Promise<void> {
  if (!isBillingDay(day)) throw new RangeError(`billingDay must be an integer in 1..28, got ${String(day)}`);
  await db.insert(settings).values({ key: KEY, value: day, updatedAt: at }).onConflictDoUpdate({ target: settings.key, set: { value: day, updatedAt: at } });
}
