import { and, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { availableColumns, quarantineNumber } from './number-store.ts';
import { phoneNumbers } from './schema.ts';

/**
 * Termination hook (RULES.md "Terms"; §13.1): every assigned number of the client —
 * pending §8.6 releases included — goes to quarantine now (event `number_released`,
 * clause 13.1); its reservations return to the pool. Call it in the termination's
 * transaction. Returns the numbers released.
 */
export async function releaseAllNumbers(tx: Tx, clientId: string, at: Date): Promise<string[]> {
  const rows = await tx
    .select()
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.clientId, clientId), inArray(phoneNumbers.state, ['assigned', 'reserved'])))
    .orderBy(phoneNumbers.number)
    .for('update');
  const released: string[] = [];
  for (const row of rows) {
    if (row.state === 'reserved') {
      await tx.update(phoneNumbers).set(availableColumns).where(eq(phoneNumbers.number, row.number));
    } else {
      await quarantineNumber(tx, row, at, '13.1', 'termination');
      released.push(row.number);
    }
  }
  return released;
}
