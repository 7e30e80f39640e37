import { and, asc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { localDate } from '../../kernel/time.ts';
import { phoneNumbers } from './schema.ts';
import { countUsersAt } from './user-store.ts';

export interface InternationalNumberQuantity {
  number: string;
  /** Local date of assignment. */
  assignedOn: string;
  /** §8.6: last day of the 12-month commitment. */
  commitmentEnd: string | null;
  /** A release was asked; the number stays assigned until the job after commitmentEnd. */
  releasePending: boolean;
}

export interface BillingQuantities {
  /** Users existing at `at`. */
  users: number;
  /** National numbers assigned now. */
  nationalNumbers: number;
  /** International numbers assigned now, pending releases included (see `countsForMonth`). */
  internationalNumbers: number;
  international: InternationalNumberQuantity[];
}

/**
 * §8.4: quantities come from what is configured. Users are counted at the instant `at`
 * (soft-deleted rows keep the history); numbers are those assigned now (the billing run
 * reads them at its instant). For §8.6, apply `countsForMonth` to `international` for each
 * month billed. `known.usersAt`: the users counted at `at` beforehand (the billing run reads
 * them for a group of clients at once, `countUsersAtOf`); the numbers are always read here.
 */
export async function billingQuantities(db: DbOrTx, clientId: string, at: Date, known: { usersAt?: number } = {}): Promise<BillingQuantities> {
  const numbers = await db
    .select()
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.clientId, clientId), eq(phoneNumbers.state, 'assigned')))
    .orderBy(asc(phoneNumbers.number));
  const international = numbers
    .filter((n) => n.type === 'international')
    .map((n) => ({
      number: n.number,
      assignedOn: localDate(n.assignedAt!),
      commitmentEnd: n.commitmentEnd,
      releasePending: n.releaseRequestedAt !== null,
    }));
  return {
    // `known.usersAt`: the count at `at` read beforehand (countUsersAtOf) — a count at a past instant does not change.
    users: known.usersAt ?? (await countUsersAt(db, clientId, at)),
    nationalNumbers: numbers.filter((n) => n.type === 'national').length,
    internationalNumbers: international.length,
    international,
  };
}
