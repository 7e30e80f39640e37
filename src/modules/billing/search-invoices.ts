/**
 * Listing invoices and credit notes with filters (§8; §15.3: staff across clients, a
 * client only its own — asking for another client is the 404 refusal, recorded), and one
 * invoice by id with the same tenant rule.
 */
import { and, asc, desc, eq, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { assertTenant, scopeClientId } from '../identity/tenancy.ts';
import type { InvoiceView } from './list-client-invoices.ts';
import { invoiceLineView, type InvoiceLineRow, type InvoiceRow } from './invoice-queries.ts';
import { invoiceLines, invoices } from './schema.ts';

export interface InvoiceFilter {
  clientId?: string | undefined;
  status?: 'open' | 'paid' | undefined;
  kind?: 'invoice' | 'credit_note' | undefined;
  /** Issue date range, inclusive (YYYY-MM-DD). */
  from?: string | undefined;
  to?: string | undefined;
  /** Exact number, or a prefix (`2027-` for a year). */
  number?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface InvoiceListItem extends InvoiceView {
  clientId: string;
  periodStart: string | null;
  periodEnd: string | null;
  creditedInvoiceId: string | null;
  reason: string | null;
}

export function invoiceListItem(i: InvoiceRow, lines: InvoiceLineRow[]): InvoiceListItem {
  return {
    id: i.id,
    number: i.number,
    kind: i.kind,
    clientId: i.clientId,
    issueDate: i.issueDate,
    dueDate: i.dueDate,
    status: i.status,
    periodStart: i.periodStart,
    periodEnd: i.periodEnd,
    totalExclVatCents: i.totalExclVatCents,
    vatCents: i.vatCents,
    totalInclVatCents: i.totalInclVatCents,
    structuredReference: i.structuredReference,
    creditedInvoiceId: i.creditedInvoiceId,
    reason: i.reason,
    lines: lines.map((l) => ({ ...invoiceLineView(l), clause: l.clause, description: l.description })),
  };
}

export async function searchInvoices(db: DbOrTx, principal: Principal, filter: InvoiceFilter): Promise<{ items: InvoiceListItem[]; total: number }> {
  const clientId = scopeClientId(principal, filter.clientId);
  const where: SQL[] = [];
  if (clientId !== undefined) where.push(eq(invoices.clientId, clientId));
  if (filter.status) where.push(eq(invoices.status, filter.status));
  if (filter.kind) where.push(eq(invoices.kind, filter.kind));
  if (filter.from) where.push(gte(invoices.issueDate, filter.from));
  if (filter.to) where.push(lte(invoices.issueDate, filter.to));
  if (filter.number) where.push(sql`${invoices.number} like ${`${filter.number.replace(/[%_\\]/g, '\\$&')}%`}`);
  const cond = and(...where);
  const [count] = await db.select({ n: sql<string>`count(*)` }).from(invoices).where(cond);
  const rows = await db
    .select()
    .from(invoices)
    .where(cond)
    .orderBy(desc(invoices.issueDate), desc(invoices.number))
    .limit(Math.min(filter.limit ?? 100, 1000))
    .offset(filter.offset ?? 0);
  const lines =
    rows.length === 0
      ? []
      : await db
          .select()
          .from(invoiceLines)
          .where(inArray(invoiceLines.invoiceId, rows.map((r) => r.id)))
          .orderBy(asc(invoiceLines.position));
  return { items: rows.map((r) => invoiceListItem(r, lines.filter((l) => l.invoiceId === r.id))), total: Number(count?.n ?? 0) };
}

/** One invoice or credit note; another tenant's is 404 as if absent (§15.3). */
export async function getInvoice(db: DbOrTx, principal: Principal | 'system', invoiceId: string): Promise<InvoiceListItem> {
  const [row] = await db.select().from(invoices).where(eq(invoices.id, invoiceId)).limit(1);
  if (!row) throw notFound('invoice', invoiceId);
  if (principal !== 'system') assertTenant(principal, row.clientId, { entity: 'invoice', entityId: invoiceId });
  const lines = await db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, row.id)).orderBy(asc(invoiceLines.position));
  return invoiceListItem(row, lines);
}

export async function invoiceIdByNumber(db: DbOrTx, number: string): Promise<string | null> {
  const [row] = await db.select({ id: invoices.id }).from(invoices).where(eq(invoices.number, number)).limit(1);
  return row?.id ?? null;
}
