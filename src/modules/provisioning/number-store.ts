import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { RuleViolation } from '../../kernel/errors.ts';
import { localDate } from '../../kernel/time.ts';
import { recordEvent } from '../events/index.ts';
import { quarantineEndsOn } from './number-lifecycle.ts';
import { phoneNumbers } from './schema.ts';

export type NumberRow = typeof phoneNumbers.$inferSelect;

export async function lockNumber(db: DbOrTx, number: string): Promise<NumberRow | undefined> {
  const [row] = await db.select().from(phoneNumbers).where(eq(phoneNumbers.number, number)).for('update');
  return row;
}

/** A number belongs to one client at a time (clause null, RULES.md "Refusal codes"). */
export const numberNotAvailable = (number: string, why: string): RuleViolation =>
  new RuleViolation('NUMBER_NOT_AVAILABLE', null, `Number ${number} is not available: ${why}`);

/**
 * Puts an assigned number in quarantine for 90 days (§3) from the local date of `at`,
 * detached from its user and client role, and records `number_released` with `clause`.
 */
export async function quarantineNumber(db: DbOrTx, row: NumberRow, at: Date, clause: string | null, reason: string): Promise<NumberRow> {
  const endsOn = quarantineEndsOn(localDate(at));
  const [updated] = await db
    .update(phoneNumbers)
    .set({ state: 'quarantine', userId: null, isMain: false, releasedAt: at, releaseRequestedAt: null, quarantineEndsOn: endsOn })
    .where(eq(phoneNumbers.number, row.number))
    .returning();
  await recordEvent(db, {
    at,
    clientId: row.clientId,
    type: 'number_released',
    clause,
    details: { number: row.number, type: row.type, reason, quarantineEndsOn: endsOn },
  });
  return updated!;
}

/** Back to the pool: no client, no dates. */
export const availableColumns = {
  state: 'available' as const,
  clientId: null,
  userId: null,
  isMain: false,
  reservedAt: null,
  reservationExpiresOn: null,
  assignedAt: null,
  commitmentEnd: null,
  releaseRequestedAt: null,
  releasedAt: null,
  quarantineEndsOn: null,
};
