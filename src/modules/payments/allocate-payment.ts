/**
 * The unallocated payments queue (RULES.md "Dunning and suspension": a payment naming no
 * known client or invoice is kept for staff; nothing paid is ever dropped). Staff allocate
 * one to a client — to a given invoice (what is left is credit) or to its open invoices,
 * oldest first — audited with the note; the payment keeps its original date (§5.2 interest).
 */
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { conflict, notFound, validationError } from '../../kernel/errors.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { invoices } from '../billing/schema.ts';
import { clients } from '../customers/schema.ts';
import { openInvoices } from './ledger.ts';
import { reactivateIfSettled } from './reactivation.ts';
import { applyPayment, lockClient, toPaymentView, type PaymentView } from './record-payment.ts';
import { payments } from './schema.ts';

export interface AllocatePaymentOptions {
  actor: AuditActor;
  paymentId: string;
  clientId?: string | undefined;
  invoiceNumber?: string | undefined;
  note?: string | undefined;
  requestId?: string | undefined;
}

export async function allocatePayment(ctx: AppContext, opts: AllocatePaymentOptions): Promise<PaymentView> {
  if (opts.clientId === undefined && opts.invoiceNumber === undefined) throw validationError('/clientId', 'give clientId or invoiceNumber');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [p] = await tx.select().from(payments).where(eq(payments.id, opts.paymentId)).for('update');
    if (!p) throw notFound('payment', opts.paymentId);
    if (p.clientId !== null) throw conflict('PAYMENT_ALREADY_ALLOCATED', 'This payment is already allocated to a client');
    let invoice: typeof invoices.$inferSelect | null = null;
    if (opts.invoiceNumber !== undefined) {
      const [inv] = await tx.select().from(invoices).where(eq(invoices.number, opts.invoiceNumber)).limit(1);
      if (!inv || inv.kind !== 'invoice') throw validationError('/invoiceNumber', `no invoice ${opts.invoiceNumber}`, 'NOT_FOUND');
      if (opts.clientId !== undefined && inv.clientId !== opts.clientId) throw validationError('/invoiceNumber', 'the invoice belongs to another client');
      invoice = inv;
    }
    const clientId = invoice?.clientId ?? opts.clientId!;
    const [client] = await tx.select({ id: clients.id }).from(clients).where(eq(clients.id, clientId)).limit(1);
    if (!client) throw validationError('/clientId', `no client ${clientId}`, 'NOT_FOUND');
    await lockClient(tx, clientId);
    const [updated] = await tx.update(payments).set({ clientId, matchedBy: 'staff' }).where(eq(payments.id, p.id)).returning();
    await applyPayment(tx, p.id, p.amountCents, invoice ? [invoice] : await openInvoices(tx, clientId), p.paidAt);
    const view = await toPaymentView(tx, updated!);
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'payment.allocate',
      entity: 'payment',
      entityId: p.id,
      clientId,
      before: { clientId: null, matchedBy: p.matchedBy },
      after: { ...view, note: opts.note ?? null, invoiceGiven: opts.invoiceNumber ?? null },
      clause: '5.2',
      requestId: opts.requestId ?? null,
    });
    await reactivateIfSettled(tx, clientId, now, { paymentId: p.id, allocatedBy: 'staff' });
    return view;
  });
}
