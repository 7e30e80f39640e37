/**
 * Issues one invoice in the caller's transaction (RULES.md "Invoice numbers"): the number
 * is taken from the year's counter row, locked FOR UPDATE, in the same transaction, so
 * numbers are gap-free; no lines → no invoice and no number consumed ("Empty documents").
 */
import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { fromInvoiceNumber } from '../../kernel/structured-communication.ts';
import { localDate, type LocalDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { currentParties } from './documents/parties.ts';
import { onInvoiceIssued } from './hooks.ts';
import { dueDateOf, formatInvoiceNumber, invoiceTotals } from './invoice-totals.ts';
import { invoiceCounters, invoiceLines, invoices, type InvoiceLineType } from './schema.ts';

export interface NewInvoiceLine {
  type: InvoiceLineType;
  productCode: string | null;
  zone: string | null;
  quantity: number;
  periodStart: LocalDate | null;
  periodEnd: LocalDate | null;
  amountCents: number;
  vatRate: number;
  clause: string | null;
  /** Pending items (§5.2 interest, §8.8 reminder fee): the line's text. */
  description?: string | null;
}

export interface IssueInvoiceOptions {
  /** The invoice's id when the caller needs it before issuing (calls marked in the same transaction); a new one otherwise. */
  id?: string;
  clientId: string;
  /** Unique per client: a second issue with the same key is skipped (crash-safe reruns). */
  runKey: string;
  at: Date;
  lines: NewInvoiceLine[];
  periodStart?: LocalDate | null;
  periodEnd?: LocalDate | null;
  clause: string;
  /** The caller found no invoice with `runKey` in this transaction, under its lock (the billing run): not read again. */
  runKeyChecked?: boolean;
}

/**
 * The next number of the series, the counter row locked until the transaction ends (one
 * statement: the row is created at the first number of the year, incremented after).
 */
export async function nextNumber(tx: DbOrTx, kind: 'invoice' | 'credit_note', year: number): Promise<string> {
  const series = `${kind}:${year}`;
  const [row] = await tx
    .insert(invoiceCounters)
    .values({ series, last: 1 })
    .onConflictDoUpdate({ target: invoiceCounters.series, set: { last: sql`${invoiceCounters.last} + 1` } })
    .returning({ last: invoiceCounters.last });
  return formatInvoiceNumber(kind, year, row!.last);
}

export async function invoiceExists(db: DbOrTx, clientId: string, runKey: string): Promise<boolean> {
  const [row] = await db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.clientId, clientId), eq(invoices.runKey, runKey)))
    .limit(1);
  return row !== undefined;
}

/** Issues the invoice; returns its id, or null when it has no lines or was already issued for `runKey`. */
export async function issueInvoice(tx: DbOrTx, opts: IssueInvoiceOptions): Promise<string | null> {
  if (opts.lines.length === 0) return null;
  if (opts.runKeyChecked !== true && (await invoiceExists(tx, opts.clientId, opts.runKey))) return null;
  const issueDate = localDate(opts.at);
  const totals = invoiceTotals(opts.lines);
  const id = opts.id ?? newId(opts.at);
  const parties = await currentParties(tx, opts.clientId);
  const lines = opts.lines.map((l, position) => ({ ...l, id: newId(opts.at), invoiceId: id, clientId: opts.clientId, position }));
  // The number last: the counter row stays locked only from here to the commit (concurrent runs wait here, briefly).
  const number = await nextNumber(tx, 'invoice', Number(issueDate.slice(0, 4)));
  const row = {
    id,
    number,
    kind: 'invoice' as const,
    clientId: opts.clientId,
    runKey: opts.runKey,
    issueDate,
    dueDate: dueDateOf(issueDate),
    issuedAt: opts.at,
    periodStart: opts.periodStart ?? null,
    periodEnd: opts.periodEnd ?? null,
    ...totals,
    structuredReference: fromInvoiceNumber(number),
    status: 'open' as const,
    parties,
  };
  // The invoice and its lines in one statement (a data-modifying WITH: both rows or none).
  await tx.execute(sql`with lines as (${tx.insert(invoiceLines).values(lines).getSQL()}) ${tx.insert(invoices).values(row).getSQL()}`);
  await recordAudit(tx, { at: opts.at, actor: 'system', action: 'invoice.issue', entity: 'invoice', entityId: id, clientId: opts.clientId, before: null, after: row, clause: opts.clause });
  for (const hook of onInvoiceIssued) await hook(tx, { id, clientId: opts.clientId, number, runKey: opts.runKey, totalInclVatCents: totals.totalInclVatCents, at: opts.at });
  return id;
}
