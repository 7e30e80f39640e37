/**
 * §8.1 point 5: pending late interest (§5.2) and reminder fees (§8.8), as invoice lines at
 * vatRate 0 (outside VAT). At termination (the final invoice: the client's service state
 * is already `terminated` in the terminating transaction), §5.2/§8.8 interest on every
 * invoice still unpaid after its due date is charged too, accrued through the termination
 * day (`days = terminationDate − dueDate`, the parts already paid up to their payment day).
 */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { PendingItems } from '../billing/hooks.ts';
import { serviceStateOf } from '../customers/service-state.ts';
import { lateInterest, openAmountCents, openInvoices } from './ledger.ts';
import { allocations, pendingItems } from './schema.ts';

/** §5.2 at termination: interest on the invoices still open and overdue at `at`, as pending items. */
export async function chargeInterestAtTermination(tx: DbOrTx, clientId: string, at: Date): Promise<void> {
  const today = localDate(at);
  for (const inv of await openInvoices(tx, clientId)) {
    if (inv.dueDate >= today) continue;
    const open = await openAmountCents(tx, inv);
    if (open <= 0) continue;
    const paid = await tx.select({ amountCents: allocations.amountCents, at: allocations.at }).from(allocations).where(eq(allocations.invoiceId, inv.id));
    const interest = lateInterest(inv.dueDate, [...paid, { amountCents: open, at }]);
    if (interest.cents <= 0) continue;
    const item = {
      id: newId(at),
      clientId,
      type: 'interest' as const,
      sourceInvoiceId: inv.id,
      amountCents: interest.cents,
      description: `Intérêts de retard — facture ${inv.number} (${interest.days} jours)`,
      clause: '5.2',
      createdAt: at,
    };
    const inserted = await tx.insert(pendingItems).values(item).onConflictDoNothing().returning({ id: pendingItems.id });
    if (inserted.length > 0) {
      await recordAudit(tx, { at, actor: 'system', action: 'interest.pending', entity: 'invoice', entityId: inv.id, clientId, before: null, after: { ...item, atTermination: true, openCents: open }, clause: '5.2' });
    }
  }
}

export async function pendingItemsOf(tx: DbOrTx, clientId: string, at: Date): Promise<PendingItems> {
  if ((await serviceStateOf(tx, clientId)) === 'terminated') await chargeInterestAtTermination(tx, clientId, at);
  const rows = await tx
    .select()
    .from(pendingItems)
    .where(and(eq(pendingItems.clientId, clientId), isNull(pendingItems.billedOn)))
    .orderBy(asc(pendingItems.createdAt), asc(pendingItems.id));
  const due = rows.filter((r) => r.createdAt <= at);
  return {
    lines: due.map((r) => ({
      type: r.type,
      productCode: null,
      zone: null,
      quantity: 1,
      periodStart: null,
      periodEnd: null,
      amountCents: r.amountCents,
      vatRate: 0,
      clause: r.clause,
      description: r.description,
    })),
    async markBilled(t, invoiceId) {
      if (due.length === 0) return;
      await t.update(pendingItems).set({ billedOn: invoiceId }).where(inArray(pendingItems.id, due.map((r) => r.id)));
    },
  };
}
