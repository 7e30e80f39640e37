/**
 * The payments ledger: open amounts of invoices, allocations, client credit (RULES.md
 * "Dunning and suspension", "Client credit", "balanceCents") and §5.2 late interest,
 * computed when an invoice becomes fully paid after its due date.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { accruedInterestCents } from '../../kernel/money.ts';
import { daysBetween, localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { invoices } from '../billing/schema.ts';
import { allocations, payments, pendingItems } from './schema.ts';

/** §5.2: 1 % per month = 12 % a year, in basis points. */
export const LATE_INTEREST_BASIS_POINTS = 1200;

export type InvoiceRow = typeof invoices.$inferSelect;

export async function allocatedCents(db: DbOrTx, invoiceId: string): Promise<number> {
  const [row] = await db.select({ s: sql<string>`coalesce(sum(${allocations.amountCents}), 0)` }).from(allocations).where(eq(allocations.invoiceId, invoiceId));
  return Number(row?.s ?? 0);
}

/** What remains to pay on an invoice, VAT included. */
export async function openAmountCents(db: DbOrTx, invoice: InvoiceRow): Promise<number> {
  if (invoice.status !== 'open') return 0;
  return invoice.totalInclVatCents - (await allocatedCents(db, invoice.id));
}

/** The client's open invoices, oldest first (issue date, then number). */
export async function openInvoices(db: DbOrTx, clientId: string): Promise<InvoiceRow[]> {
  return db
    .select()
    .from(invoices)
    .where(and(eq(invoices.clientId, clientId), eq(invoices.status, 'open'), eq(invoices.kind, 'invoice')))
    .orderBy(asc(invoices.issueDate), asc(invoices.number));
}

/** Client credit: what the client's payments brought that is not allocated to an invoice. */
export async function clientCreditCents(db: DbOrTx, clientId: string): Promise<number> {
  // One statement (run for every invoice issued, see applyClientCredit): both sums as subqueries.
  const result = await db.execute(sql`select
    (select coalesce(sum(${payments.amountCents}), 0) from ${payments} where ${payments.clientId} = ${clientId}::uuid)::text as paid,
    (select coalesce(sum(${allocations.amountCents}), 0) from ${allocations} where ${allocations.clientId} = ${clientId}::uuid)::text as used`);
  const [row] = (result as { rows: { paid: string; used: string }[] }).rows;
  return Number(row?.paid ?? 0) - Number(row?.used ?? 0);
}

/** RULES.md "balanceCents": what to subtract from the open totals — allocations to open invoices and the client credit. */
export async function balanceAdjustment(db: DbOrTx, clientId: string): Promise<number> {
  const open = await openInvoices(db, clientId);
  let allocated = 0;
  if (open.length > 0) {
    const [row] = await db
      .select({ s: sql<string>`coalesce(sum(${allocations.amountCents}), 0)` })
      .from(allocations)
      .where(inArray(allocations.invoiceId, open.map((i) => i.id)));
    allocated = Number(row?.s ?? 0);
  }
  return allocated + (await clientCreditCents(db, clientId));
}

/** §5.2 interest of an invoice from its allocations: each part paid accrues (payment day − due date) days. */
export function lateInterest(dueDate: string, parts: readonly { amountCents: number; at: Date }[]): { cents: number; days: number } {
  const periods = parts.map((p) => ({ amountCents: p.amountCents, days: Math.max(0, daysBetween(dueDate, localDate(p.at))) }));
  const days = Math.max(0, ...periods.map((p) => p.days));
  return { cents: accruedInterestCents(periods, LATE_INTEREST_BASIS_POINTS), days };
}

/**
 * Applies `amountCents` of a payment to an invoice at `at`. When the invoice is then fully
 * paid it is marked `paid`, and if paid after its due date the §5.2 interest becomes a
 * pending `interest` item for the next invoice.
 */
export async function allocate(tx: DbOrTx, paymentId: string, invoice: InvoiceRow, amountCents: number, at: Date): Promise<void> {
  if (amountCents <= 0) return;
  await tx.insert(allocations).values({ id: newId(at), paymentId, invoiceId: invoice.id, clientId: invoice.clientId, amountCents, at });
  const parts = await tx
    .select({ amountCents: allocations.amountCents, at: allocations.at, matchedBy: payments.matchedBy })
    .from(allocations)
    .innerJoin(payments, eq(payments.id, allocations.paymentId))
    .where(eq(allocations.invoiceId, invoice.id));
  const paid = parts.reduce((s, p) => s + p.amountCents, 0);
  if (paid < invoice.totalInclVatCents) return;
  await tx.update(invoices).set({ status: 'paid' }).where(eq(invoices.id, invoice.id));
  await recordAudit(tx, { at, actor: 'system', action: 'invoice.paid', entity: 'invoice', entityId: invoice.id, clientId: invoice.clientId, before: { status: 'open' }, after: { status: 'paid' }, clause: '5.2' });
  // §5.2 interest runs on what was paid late; a credited amount was never owed.
  const interest = lateInterest(invoice.dueDate, parts.filter((p) => p.matchedBy !== 'credit_note'));
  if (interest.cents <= 0) return;
  const item = {
    id: newId(at),
    clientId: invoice.clientId,
    type: 'interest' as const,
    sourceInvoiceId: invoice.id,
    amountCents: interest.cents,
    description: `Intérêts de retard — facture ${invoice.number} (${interest.days} jours)`,
    clause: '5.2',
    createdAt: at,
  };
  await tx.insert(pendingItems).values(item).onConflictDoNothing();
  await recordAudit(tx, { at, actor: 'system', action: 'interest.pending', entity: 'invoice', entityId: invoice.id, clientId: invoice.clientId, before: null, after: item, clause: '5.2' });
}

/** RULES.md "Client credit": applied to a newly issued invoice, oldest payments first. */
export async function applyClientCredit(tx: DbOrTx, invoiceId: string, clientId: string, at: Date): Promise<void> {
  // The credit first: most clients have none, and then the invoice is not even read (one statement per invoice issued).
  if ((await clientCreditCents(tx, clientId)) <= 0) return;
  const [invoice] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId)).limit(1);
  if (!invoice || invoice.kind !== 'invoice') return;
  const rows = await tx
    .select({ id: payments.id, amountCents: payments.amountCents })
    .from(payments)
    .where(eq(payments.clientId, invoice.clientId))
    .orderBy(asc(payments.paidAt), asc(payments.id));
  const usedRows = await tx
    .select({ paymentId: allocations.paymentId, used: sql<string>`sum(${allocations.amountCents})` })
    .from(allocations)
    .where(eq(allocations.clientId, invoice.clientId))
    .groupBy(allocations.paymentId);
  const used = new Map(usedRows.map((r) => [r.paymentId, Number(r.used)]));
  let due = await openAmountCents(tx, invoice);
  for (const p of rows) {
    if (due <= 0) break;
    const left = p.amountCents - (used.get(p.id) ?? 0);
    if (left <= 0) continue;
    const part = Math.min(left, due);
    await allocate(tx, p.id, invoice, part, at);
    due -= part;
  }
}
