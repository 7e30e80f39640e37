/**
 * A credit note (§8: corrections are credit notes) settles what it credits: its amount is
 * applied to the credited invoice's open amount — so dunning stops chasing what was
 * credited — and the rest becomes client credit, applied to the next invoices (RULES.md
 * "Client credit"). It is booked as a payment `matchedBy: credit_note` (the ledger's one
 * way of settling an invoice); the credited part never accrues §5.2 interest (it was
 * never owed). The credit note is then `paid` (its credit taken over), so `balanceCents`
 * does not subtract it twice. A dunning suspension the credit clears ends at once (§9.1a).
 */
import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { IssuedCreditNote } from '../billing/hooks.ts';
import { invoices } from '../billing/schema.ts';
import { openAmountCents } from './ledger.ts';
import { reactivateIfSettled } from './reactivation.ts';
import { applyPayment, lockClient } from './record-payment.ts';
import { payments } from './schema.ts';

export async function settleWithCreditNote(tx: DbOrTx, note: IssuedCreditNote): Promise<void> {
  await lockClient(tx, note.clientId);
  const paymentId = newId(note.at);
  await tx.insert(payments).values({
    id: paymentId,
    externalId: `credit-note:${note.id}`,
    clientId: note.clientId,
    amountCents: note.totalInclVatCents,
    paidAt: note.at,
    reference: null,
    invoiceNumber: note.number,
    payerIban: null,
    matchedBy: 'credit_note',
    recordedAt: note.at,
  });
  const [credited] = await tx.select().from(invoices).where(eq(invoices.id, note.creditedInvoiceId)).limit(1);
  const applied = credited ? Math.min(note.totalInclVatCents, await openAmountCents(tx, credited)) : 0;
  if (credited && applied > 0) await applyPayment(tx, paymentId, applied, [credited], note.at);
  await tx.update(invoices).set({ status: 'paid' }).where(eq(invoices.id, note.id));
  await recordAudit(tx, {
    at: note.at,
    actor: 'system',
    action: 'credit_note.applied',
    entity: 'invoice',
    entityId: note.id,
    clientId: note.clientId,
    before: { status: 'open' },
    after: { status: 'paid', paymentId, appliedToInvoiceCents: applied, clientCreditCents: note.totalInclVatCents - applied },
    clause: '8',
  });
  await reactivateIfSettled(tx, note.clientId, note.at, { creditNote: note.number });
}
