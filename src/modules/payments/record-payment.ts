/**
 * Recording a payment (RULES.md "Dunning and suspension"): matched by structured
 * communication (tolerant: `+++`, `***`, slashes, spaces, or none), then an invoice number
 * (given, or written in the free text), then the client named, then the payer's IBAN when
 * earlier matched payments tie it to exactly one client; applied to the invoice, else to
 * the client's open invoices, oldest first. What is left over is client credit (applied
 * to the next invoices as they are issued); a payment naming no known client or invoice
 * is kept unallocated for staff (never dropped). A fully paid late invoice leaves §5.2
 * interest pending. When nothing overdue remains uncovered, a dunning suspension ends at
 * once: `reactivation` (clause 9.1a) at the instant the payment is recorded. Idempotent
 * by `externalId`.
 */
import { and, asc, eq, isNotNull, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { DbOrTx } from '../../db/client.ts';
import { validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { parse } from '../../kernel/structured-communication.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { invoices } from '../billing/schema.ts';
import { clients } from '../customers/schema.ts';
import { allocate, openAmountCents, openInvoices, type InvoiceRow } from './ledger.ts';
import { reactivateIfSettled } from './reactivation.ts';
import { allocations, payments, type PaymentMatch } from './schema.ts';

export interface RecordPaymentOptions {
  actor: AuditActor;
  amountCents: number;
  reference?: string | undefined;
  /** Unstructured remittance text (bank statements): searched for an OGM, then an invoice number. */
  freeText?: string | undefined;
  invoiceNumber?: string | undefined;
  clientId?: string | undefined;
  /** The value date; defaults to now. */
  paidAt?: Date | undefined;
  payerIban?: string | undefined;
  externalId?: string | undefined;
  bankEntryId?: string | undefined;
  requestId?: string | undefined;
}

export interface PaymentView {
  id: string;
  externalId: string | null;
  clientId: string | null;
  amountCents: number;
  paidAt: string;
  matchedBy: string;
  reference: string | null;
  freeText: string | null;
  payerIban: string | null;
  allocations: { invoiceNumber: string; amountCents: number }[];
  creditCents: number;
}

const INVOICE_NUMBER = /^\d{4}-\d{6}$/;

async function invoiceByNumber(db: DbOrTx, number: string): Promise<InvoiceRow | null> {
  const [row] = await db.select().from(invoices).where(eq(invoices.number, number)).limit(1);
  return row && row.kind === 'invoice' ? row : null;
}

/** The invoice a structured communication names (its 12 digits), or null. */
async function invoiceByStructured(db: DbOrTx, text: string): Promise<InvoiceRow | null> {
  const digits = parse(text);
  if (digits === null) return null;
  const inv = await invoiceByNumber(db, `${digits.slice(0, 4)}-${digits.slice(4, 10)}`);
  return inv && parse(inv.structuredReference) === digits ? inv : null;
}

/** In free text: a structured communication (any of its spellings), else an invoice number `YYYY-NNNNNN`. */
async function invoiceInText(db: DbOrTx, text: string): Promise<{ invoice: InvoiceRow; by: PaymentMatch } | null> {
  const whole = await invoiceByStructured(db, text);
  if (whole) return { invoice: whole, by: 'reference' };
  for (const m of text.matchAll(/(?:\+\+\+|\*\*\*)?\s*(\d{3})\s*\/?\s*(\d{4})\s*\/?\s*(\d{5})\s*(?:\+\+\+|\*\*\*)?/g)) {
    const inv = await invoiceByStructured(db, `${m[1]}${m[2]}${m[3]}`);
    if (inv) return { invoice: inv, by: 'reference' };
  }
  for (const m of text.matchAll(/(?<!\d)(\d{4})[-/ ](\d{6})(?!\d)/g)) {
    const inv = await invoiceByNumber(db, `${m[1]}-${m[2]}`);
    if (inv) return { invoice: inv, by: 'invoice_number' };
  }
  return null;
}

/** The one client earlier matched payments from this IBAN belong to; null when none or several. */
export async function clientOfIban(db: DbOrTx, iban: string): Promise<string | null> {
  const rows = await db
    .selectDistinct({ clientId: payments.clientId })
    .from(payments)
    .where(and(eq(payments.payerIban, iban), isNotNull(payments.clientId)))
    .limit(2);
  return rows.length === 1 ? rows[0]!.clientId : null;
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
    reference: row.reference,
    freeText: row.freeText ?? null,
    payerIban: row.payerIban,
    allocations: parts,
    creditCents: row.clientId === null ? 0 : row.amountCents - used,
  };
}

/** Applies what is left of a payment to `targets` in order; returns the cents left (credit). */
export async function applyPayment(tx: DbOrTx, paymentId: string, amountCents: number, targets: readonly InvoiceRow[], at: Date): Promise<number> {
  let left = amountCents;
  for (const inv of targets) {
    if (left <= 0) break;
    const [fresh] = await tx.select().from(invoices).where(eq(invoices.id, inv.id)).limit(1);
    if (!fresh || fresh.kind !== 'invoice') continue;
    const part = Math.min(left, await openAmountCents(tx, fresh));
    if (part <= 0) continue;
    await allocate(tx, paymentId, fresh, part, at);
    left -= part;
  }
  return left;
}

/** Locks the client row: one payment at a time per client, so allocations and credit read consistent totals. */
export async function lockClient(tx: DbOrTx, clientId: string): Promise<void> {
  await tx.select({ id: clients.id }).from(clients).where(eq(clients.id, clientId)).for('update');
}

/** The same as `recordPayment`, inside the caller's transaction, at `now` (bank import: one transaction per file). */
export async function recordPaymentIn(tx: DbOrTx, now: Date, opts: RecordPaymentOptions): Promise<{ view: PaymentView; created: boolean }> {
  if (!Number.isSafeInteger(opts.amountCents) || opts.amountCents <= 0) throw validationError('/amount', 'a positive amount in cents');
  if (opts.invoiceNumber !== undefined && !INVOICE_NUMBER.test(opts.invoiceNumber)) throw validationError('/invoiceNumber', 'an invoice number YYYY-NNNNNN');
  const paidAt = opts.paidAt ?? now;
  if (opts.externalId !== undefined) {
    const [existing] = await tx.select().from(payments).where(eq(payments.externalId, opts.externalId)).limit(1);
    if (existing) return { view: await toPaymentView(tx, existing), created: false };
  }
  // Matching: structured communication, free text, invoice number, the client, the payer's IBAN.
  let invoice: InvoiceRow | null = null;
  let matchedBy: PaymentMatch = 'unallocated';
  if (opts.reference !== undefined) {
    const found = await invoiceInText(tx, opts.reference);
    if (found) ({ invoice, by: matchedBy } = found);
  }
  if (!invoice && opts.freeText !== undefined) {
    const found = await invoiceInText(tx, opts.freeText);
    if (found) ({ invoice, by: matchedBy } = found);
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
  if (clientId === null && opts.payerIban !== undefined) {
    clientId = await clientOfIban(tx, opts.payerIban);
    if (clientId !== null) matchedBy = 'iban';
  }
  if (clientId !== null) await lockClient(tx, clientId);

  const row = {
    id: newId(now),
    externalId: opts.externalId ?? null,
    clientId,
    amountCents: opts.amountCents,
    paidAt,
    reference: opts.reference ?? null,
    freeText: opts.freeText ?? null,
    invoiceNumber: opts.invoiceNumber ?? null,
    payerIban: opts.payerIban ?? null,
    matchedBy,
    bankEntryId: opts.bankEntryId ?? null,
    recordedAt: now,
  };
  await tx.insert(payments).values(row);
  // A payment naming an invoice pays that invoice (what is left is credit); else the client's open invoices, oldest first.
  const targets = invoice ? [invoice] : clientId !== null ? await openInvoices(tx, clientId) : [];
  await applyPayment(tx, row.id, opts.amountCents, targets, paidAt);
  const view = await toPaymentView(tx, row);
  await recordAudit(tx, {
    at: now,
    actor: opts.actor,
    action: 'payment.record',
    entity: 'payment',
    entityId: row.id,
    clientId,
    before: null,
    after: { ...view, invoiceNumberGiven: row.invoiceNumber, matchedInvoice: invoice?.number ?? null },
    clause: '5.2',
    requestId: opts.requestId ?? null,
  });
  if (clientId !== null) await reactivateIfSettled(tx, clientId, now, { paymentId: row.id });
  return { view, created: true };
}

export async function recordPayment(ctx: AppContext, opts: RecordPaymentOptions): Promise<PaymentView> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => (await recordPaymentIn(tx, now, opts)).view);
}

/** Unallocated payments (the staff queue), oldest first. */
export async function unallocatedPayments(db: DbOrTx): Promise<PaymentView[]> {
  const rows = await db.select().from(payments).where(sql`${payments.clientId} is null`).orderBy(asc(payments.paidAt), asc(payments.id));
  return Promise.all(rows.map((r) => toPaymentView(db, r)));
}
