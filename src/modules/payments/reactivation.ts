/**
 * §9.1a automatic reactivation (RULES.md "Dunning and suspension"): at the instant a
 * payment (or a §9.3 guarantee) leaves no overdue amount uncovered, the dunning
 * suspension ends and the client returns to full service — event `reactivation`
 * (clause 9.1a) at that instant. It lifts only `minimum_service` decided by dunning: a
 * staff suspension (§9.1c) or a `security_suspended` state (§9.2) stays until staff lift it.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { serviceStateOf, setServiceState } from '../customers/service-state.ts';
import { recordEvent } from '../events/index.ts';
import { coveredByInvoice } from './guarantees.ts';
import { openAmountCents, openInvoices } from './ledger.ts';
import { suspensions } from './schema.ts';

export type SuspensionRow = typeof suspensions.$inferSelect;

/** The open suspension decided by dunning (§9.1a/b), if any. */
export async function openSuspension(db: DbOrTx, clientId: string): Promise<SuspensionRow | null> {
  const [row] = await db
    .select()
    .from(suspensions)
    .where(and(eq(suspensions.clientId, clientId), isNull(suspensions.reactivatedAt), eq(suspensions.kind, 'dunning')))
    .limit(1);
  return row ?? null;
}

/** Open staff suspensions (§9.1c, §9.2). */
export async function openStaffSuspensions(db: DbOrTx, clientId: string): Promise<SuspensionRow[]> {
  return db
    .select()
    .from(suspensions)
    .where(and(eq(suspensions.clientId, clientId), isNull(suspensions.reactivatedAt), eq(suspensions.kind, 'staff')));
}

/** Overdue cents not covered by a guarantee on `today` (due date strictly before today). */
export async function uncoveredOverdueCents(db: DbOrTx, clientId: string, today: string): Promise<number> {
  const overdue = (await openInvoices(db, clientId)).filter((i) => i.dueDate < today);
  const covered = await coveredByInvoice(db, overdue.map((i) => i.id));
  let total = 0;
  for (const inv of overdue) total += Math.max(0, (await openAmountCents(db, inv)) - (covered.get(inv.id) ?? 0));
  return total;
}

/** §9.1a: ends the dunning suspension when nothing overdue remains uncovered at `now`. */
export async function reactivateIfSettled(tx: DbOrTx, clientId: string, now: Date, cause: Record<string, unknown>): Promise<boolean> {
  const suspension = await openSuspension(tx, clientId);
  if (suspension === null) return false;
  if ((await uncoveredOverdueCents(tx, clientId, localDate(now))) > 0) return false;
  await tx.update(suspensions).set({ reactivatedAt: now }).where(eq(suspensions.id, suspension.id));
  const state = await serviceStateOf(tx, clientId);
  // Only minimum service decided by dunning is lifted: never security_suspended (§9.2), nor a staff §9.1c suspension.
  const staffHeld = (await openStaffSuspensions(tx, clientId)).length > 0;
  const lifted = state === 'minimum_service' && !staffHeld;
  if (lifted) await setServiceState(tx, clientId, 'active');
  const after = lifted ? 'active' : state;
  // The `reactivation` event means the client is back to full service; a dunning suspension
  // closed under a staff or security suspension is only audited (the client stays held).
  if (lifted) await recordEvent(tx, { at: now, clientId, type: 'reactivation', clause: '9.1a', details: { ...cause, suspendedAt: suspension.suspendedAt.toISOString(), serviceState: after, actor: 'system' } });
  await recordAudit(tx, {
    at: now,
    actor: 'system',
    action: lifted ? 'client.reactivate' : 'dunning.suspension_closed',
    entity: 'client',
    entityId: clientId,
    clientId,
    before: { serviceState: state },
    after: { serviceState: after, ...cause },
    clause: '9.1a',
  });
  return true;
}
