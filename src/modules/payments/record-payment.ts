/**
 * Recording a payment (RULES.md "Dunning and suspension"): matched by structured
 * communication (tolerant: `+++`, `***`, slashes, spaces), else by invoice number, else
 * applied to the client's open invoices, oldest first. What is left over is client credit
 * (applied to the next invoices as they are issued); a payment naming no known client or
 * invoice is kept unallocated for staff. A fully paid late invoice leaves §5.2 interest
 * pending. When nothing overdue remains, a dunning suspension ends at once: `reactivation`
 * (clause 9.1a) at the instant the payment is recorded. Idempotent by `externalId`.
 */
import { asc, eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { DbOrTx } from '../../db/client.ts';
import { validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { parse } from '../../kernel/structured-communication.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { invoices } from '../billing/schema.ts';
import { clients } from '../customers/schema.ts';
import { serviceStateOf, setServiceState } from '../customers/service-state.ts';
import { recordEvent } from '../events/index.ts';
import { allocate, openAmountCents, openInvoices, type InvoiceRow } from './ledger.ts';
import { openSuspension } from './run-dunning.ts';
import { allocations, payments, suspensions } from './schema.ts';

export interface RecordPaymentOptions {
  actor: AuditActor;
  amountCents: number;
  reference?: string | undefined;
  invoiceNumber?: string | undefined;
  clientId?: string | undefined;
  /** The value date; defaults to now. */
  paidAt?: Date | undefined;
  payerIban?: string | undefined;
  externalId?: string | undefined;
  requestId?: string | undefined;
}

export interface PaymentView {
  id: string;
  externalId: string | null;
  clientId: string | null;
  amountCents: number;
  paidAt: string;
  matchedBy: string;
  allocations: { invoiceNumber: string; amountCents: number }[];
  creditCents: number;
}

const INVOICE_NUMBER = /^\d{4}-\d{6}$/;

async function invoiceByNumber(db: DbOrTx, number: string): Promise<InvoiceRow | null> {
  const [row] = await db.select().from(invoices).where(eq(invoices.number, number)).limit(1);
  return row ?? null;
}

/** The invoice a reference names: a structured communication, or an invoice number written in it. */
async function invoiceByReference(db: DbOrTx, reference: string): Promise<InvoiceRow | null> {
  const digits = parse(reference);
  if (digits !== null) {
    const number = `${digits.slice(0, 4)}-${digits.slice(4, 10)}`;
    const inv = await invoiceByNumber(db, number);
    if (inv && parse(inv.structuredReference) === digits) return inv;
    return null;
  }
  const m = /\b(\d{4}-\d{6})\b/.exec(reference);
  return m ? invoiceByNumber(db, m[1]!) : null;
}

async function clientExists(db: DbOrTx, clientId: string): Promise<boolean> {
  const [row] = await db.select({ id: clients.id }).from(clients).where(eq(clients.id, clientId)).limit(1);
  return row !== undefined;
}

export async function toPaymentView(db: DbOrTx, row: typeof payments.$inferSelect): Promise<PaymentView> {
  const parts = await db
    .select({ invoiceNumber: invoices.number, amountCents: allocations.amountCents })
    .from(allocations)
    .innerJoin(invoices, eq(invoices.id, allocations.invoiceId))
    .where(eq(allocations.paymentId, row.id))
    .orderBy(asc(allocations.at), asc(invoices.number));
  const used = parts.reduce((s, p) => s + p.amountCents, 0);
  return {
    id: row.id,
    externalId: row.externalId,
    clientId: row.clientId,
    amountCents: row.amountCents,
    paidAt: row.paidAt.toISOString(),
    matchedBy: row.matchedBy,
    allocations: parts,
    creditCents: row.clientId === null ? 0 : row.amountCents - used,
  };
}

/** §9.1a: reactivation when nothing overdue remains at the instant `now`. */
async function reactivateIfSettled(tx: DbOrTx, clientId: string, now: Date, paymentId: string): Promise<void> {
  const suspension = await openSuspension(tx, clientId);
  if (suspension === null) return;
  const today = localDate(now);
  for (const inv of await openInvoices(tx, clientId)) {
    if (inv.dueDate < today && (await openAmountCents(tx, inv)) > 0) return;
  }
  await tx.update(suspensions).set({ reactivatedAt: now }).where(eq(suspensions.id, suspension.id));
  const state = await serviceStateOf(tx, clientId);
  if (state === 'minimum_service') await setServiceState(tx, clientId, 'active');
  await recordEvent(tx, { at: now, clientId, type: 'reactivation', clause: '9.1a', details: { paymentId, suspendedAt: suspension.suspendedAt.toISOString() } });
  await recordAudit(tx, { at: now, actor: 'system', action: 'client.reactivate', entity: 'client', entityId: clientId, clientId, before: { serviceState: state }, after: { serviceState: 'active' }, clause: '9.1a' });
}

export async function recordPayment(ctx: AppContext, opts: RecordPaymentOptions): Promise<PaymentView> {
  if (!Number.isSafeInteger(opts.amountCents) || opts.amountCents <= 0) throw validationError('/amount', 'a positive amount in cents');
  if (opts.invoiceNumber !== undefined && !INVOICE_NUMBER.test(opts.invoiceNumber)) throw validationError('/invoiceNumber', 'an invoice number YYYY-NNNNNN');
  const now = ctx.clock.now();
  const paidAt = opts.paidAt ?? now;
  return ctx.db.transaction(async (tx) => {
    if (opts.externalId !== undefined) {
      const [existing] = await tx.select().from(payments).where(eq(payments.externalId, opts.externalId)).limit(1);
      if (existing) return toPaymentView(tx, existing);
    }
    // Matching: structured communication, invoice number, then the client.
    let invoice: InvoiceRow | null = null;
    let matchedBy: 'reference' | 'invoice_number' | 'client' | 'unallocated' = 'unallocated';
    if (opts.reference !== undefined) {
      invoice = await invoiceByReference(tx, opts.reference);
      if (invoice) matchedBy = 'reference';
    }
    if (!invoice && opts.invoiceNumber !== undefined) {
      invoice = await invoiceByNumber(tx, opts.invoiceNumber);
      if (invoice) matchedBy = 'invoice_number';
    }
    let clientId: string | null = invoice?.clientId ?? null;
    if (clientId === null && opts.clientId !== undefined && (await clientExists(tx, opts.clientId))) {
      clientId = opts.clientId;
      matchedBy = 'client';
    }
    // One payment at a time per client: allocations and credit read consistent totals.
    if (clientId !== null) await tx.select({ id: clients.id }).from(clients).where(eq(clients.id, clientId)).for('update');

    const row = {
      id: newId(now),
      externalId: opts.externalId ?? null,
      clientId,
      amountCents: opts.amountCents,
      paidAt,
      reference: opts.reference ?? null,
      invoiceNumber: opts.invoiceNumber ?? null,
      payerIban: opts.payerIban ?? null,
      matchedBy,
      recordedAt: now,
    };
    await tx.insert(payments).values(row);

    let left = opts.amountCents;
    const targets = invoice ? [invoice] : clientId !== null ? await openInvoices(tx, clientId) : [];
    for (const inv of targets) {
      if (left <= 0) break;
      const [fresh] = await tx.select().from(invoices).where(eq(invoices.id, inv.id)).limit(1);
      if (!fresh || fresh.kind !== 'invoice') continue;
      const part = Math.min(left, await openAmountCents(tx, fresh));
      if (part <= 0) continue;
      await allocate(tx, row.id, fresh, part, paidAt);
      left -= part;
    }
    const view = await toPaymentView(tx, row);
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'payment.record',
      entity: 'payment',
      entityId: row.id,
      clientId,
      before: null,
      after: { ...view, reference: row.reference, invoiceNumberGiven: row.invoiceNumber, matchedInvoice: invoice?.number ?? null },
      clause: '5.2',
      requestId: opts.requestId ?? null,
    });
    if (clientId !== null) await reactivateIfSettled(tx, clientId, now, row.id);
    return view;
  });
}
