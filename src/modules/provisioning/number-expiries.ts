import { and, asc, eq, isNotNull, lt, lte } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { recordEvent } from '../events/index.ts';
import { availableColumns, quarantineNumber } from './number-store.ts';
import { phoneNumbers } from './schema.ts';

export interface NumberExpiriesResult {
  released: string[];
  reservationsExpired: string[];
  quarantineEnded: string[];
}

/**
 * The daily number job (00:00 Europe/Brussels; `dueAt` is its "now"), idempotent:
 * 1. §8.6 pending releases whose commitment's last day is before today → quarantine
 *    (event `number_released`, clause 8.6);
 * 2. §3.6 reservations whose 30 days are over → pool (event `reservation_expired`);
 * 3. quarantines whose 90 days are over → available.
 */
export async function runNumberExpiries(db: Db, dueAt: Date): Promise<NumberExpiriesResult> {
  const today = localDate(dueAt);
  return db.transaction(async (tx) => {
    const result: NumberExpiriesResult = { released: [], reservationsExpired: [], quarantineEnded: [] };
    const pending = await tx
      .select()
      .from(phoneNumbers)
      .where(and(eq(phoneNumbers.state, 'assigned'), isNotNull(phoneNumbers.releaseRequestedAt), lt(phoneNumbers.commitmentEnd, today)))
      .orderBy(asc(phoneNumbers.number))
      .for('update');
    for (const row of pending) {
      await quarantineNumber(tx, row, dueAt, '8.6', 'commitment_ended');
      await recordAudit(tx, {
        at: dueAt,
        actor: 'system',
        action: 'number.release',
        entity: 'number',
        entityId: row.number,
        clientId: row.clientId,
        before: { state: 'assigned', commitmentEnd: row.commitmentEnd, releasePending: true },
        after: { state: 'quarantine' },
        clause: '8.6',
      });
      result.released.push(row.number);
    }
    const reservations = await tx
      .select()
      .from(phoneNumbers)
      .where(and(eq(phoneNumbers.state, 'reserved'), lte(phoneNumbers.reservationExpiresOn, today)))
      .orderBy(asc(phoneNumbers.number))
      .for('update');
    for (const row of reservations) {
      await tx.update(phoneNumbers).set(availableColumns).where(eq(phoneNumbers.number, row.number));
      await recordEvent(tx, {
        at: dueAt,
        clientId: row.clientId,
        type: 'reservation_expired',
        clause: '3.6',
        details: { number: row.number, type: row.type, reservedOn: row.reservedAt ? localDate(row.reservedAt) : null },
      });
      result.reservationsExpired.push(row.number);
    }
    const quarantined = await tx
      .update(phoneNumbers)
      .set(availableColumns)
      .where(and(eq(phoneNumbers.state, 'quarantine'), lte(phoneNumbers.quarantineEndsOn, today)))
      .returning({ number: phoneNumbers.number });
    result.quarantineEnded = quarantined.map((r) => r.number).sort();
    return result;
  });
}
