import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { assertClientAccess, assertStaffRole, STAFF_NUMBER_ROLES, type Actor } from './access.ts';
import { phoneNumbers, type NumberState } from './schema.ts';
import { toNumberView, type NumberView } from './views.ts';

/** The numbers reserved for or assigned to a client (a pending §8.6 release shows `releasePending`). */
export async function listClientNumbers(db: DbOrTx, opts: { actor: Actor; clientId: string }): Promise<NumberView[]> {
  assertClientAccess(opts.actor, opts.clientId, null);
  const rows = await db.select().from(phoneNumbers).where(eq(phoneNumbers.clientId, opts.clientId)).orderBy(asc(phoneNumbers.number));
  return rows.filter((r) => r.state === 'assigned' || r.state === 'reserved').map(toNumberView);
}

/** The inventory (staff), optionally by state, lowest first. */
export async function listInventory(
  db: DbOrTx,
  opts: { actor: Actor; state?: NumberState | undefined; limit?: number | undefined; after?: string | undefined },
): Promise<NumberView[]> {
  assertStaffRole(opts.actor, STAFF_NUMBER_ROLES, 'number_inventory', null);
  const where: SQL[] = [];
  if (opts.state) where.push(eq(phoneNumbers.state, opts.state));
  if (opts.after) where.push(gt(phoneNumbers.number, opts.after));
  const rows = await db
    .select()
    .from(phoneNumbers)
    .where(and(...where))
    .orderBy(asc(phoneNumbers.number))
    .limit(opts.limit ?? 500);
  return rows.map(toNumberView);
}
