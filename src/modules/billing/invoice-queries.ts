/** Reading invoices: a client's invoices with their lines, and its balance (RULES.md "balanceCents"). */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { balanceAdjusters } from './hooks.ts';
import { invoiceLines, invoices } from './schema.ts';

export type InvoiceRow = typeof invoices.$inferSelect;
export type InvoiceLineRow = typeof invoiceLines.$inferSelect;

/** Every invoice (of one client when given) in number order, with its lines in position order. */
export async function listInvoices(db: DbOrTx, clientId?: string): Promise<(InvoiceRow & { lines: InvoiceLineRow[] })[]> {
  const rows = await db
    .select()
    .from(invoices)
    .where(clientId ? eq(invoices.clientId, clientId) : undefined)
    .orderBy(asc(invoices.issuedAt), asc(invoices.number));
  if (rows.length === 0) return [];
  const lines = await db
    .select()
    .from(invoiceLines)
    .where(inArray(invoiceLines.invoiceId, rows.map((r) => r.id)))
    .orderBy(asc(invoiceLines.invoiceId), asc(invoiceLines.position));
  return rows.map((r) => ({ ...r, lines: lines.filter((l) => l.invoiceId === r.id) }));
}

/**
 * RULES.md "balanceCents": open amounts of the client's issued invoices, VAT included,
 * minus its open credit notes, minus what payments registered in `balanceAdjusters` (allocations, unallocated client credit).
 */
export async function balanceCents(db: DbOrTx, clientId: string): Promise<number> {
  // Open invoices count for what they total; open credit notes (credit not yet taken over by payments, hooks.ts) against.
  const [row] = await db
    .select({ s: sql<string>`coalesce(sum(case when ${invoices.kind} = 'credit_note' then -${invoices.totalInclVatCents} else ${invoices.totalInclVatCents} end), 0)` })
    .from(invoices)
    .where(and(eq(invoices.clientId, clientId), eq(invoices.status, 'open')));
  let balance = Number(row?.s ?? 0);
  for (const adjust of balanceAdjusters) balance -= await adjust(db, clientId);
  return balance;
}

/** An invoice line as the API and the scenario report show it (SCENARIOS.md line fields). */
export function invoiceLineView(l: InvoiceLineRow) {
  return {
    type: l.type,
    product: l.productCode,
    zone: l.zone,
    quantity: l.quantity,
    periodStart: l.periodStart,
    periodEnd: l.periodEnd,
    amountCents: l.amountCents,
    vatRate: l.vatRate,
  };
}
