/**
 * Credit notes (§8: "An issued invoice never changes; corrections are credit notes"),
 * staff only: the whole invoice, or some of its lines (each up to what remains creditable
 * of it), with a reason. Numbered `NCYYYY-NNNNNN`, gap-free per year, in the issuing
 * transaction; the credited invoice is locked FOR UPDATE so two credit notes of the same
 * invoice never credit a line twice. The invoice itself is not touched. The credit
 * reduces the client's balance (invoice-queries.ts `balanceCents`) and is handed to the
 * `onCreditNoteIssued` hooks.
 */
import { and, asc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { DbOrTx } from '../../db/client.ts';
import { AppError, RuleViolation, notFound, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { recordEvent } from '../events/index.ts';
import { currentParties } from './documents/parties.ts';
import { onCreditNoteIssued } from './hooks.ts';
import { nextNumber } from './issue-invoice.ts';
import { invoiceTotals } from './invoice-totals.ts';
import { invoiceLines, invoices } from './schema.ts';

/** The clause recorded on credit notes: RULES.md §8 "Invoice numbers … corrections are credit notes". */
export const CREDIT_NOTE_CLAUSE = '8';

export interface CreditLineRequest {
  lineId: string;
  /** Cents to credit on that line (same sign as the line); default: all that remains creditable. */
  amountCents?: number | undefined;
  /** Quantity shown on the credit note line; default: the line's quantity when crediting all of it, else 1. */
  quantity?: number | undefined;
}

export interface IssueCreditNoteOptions {
  actor: AuditActor;
  invoiceId: string;
  reason: string;
  /** Omitted: every line, in full (what remains creditable of each). */
  lines?: CreditLineRequest[] | undefined;
  requestId?: string | undefined;
}

export interface CreditNoteView {
  id: string;
  number: string;
  creditedInvoiceId: string;
  creditedInvoiceNumber: string;
  issueDate: string;
  reason: string;
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
  lines: { creditedLineId: string; type: string; quantity: number; amountCents: number; vatRate: number }[];
}

/** What was already credited of each line of an invoice (by earlier credit notes). */
async function creditedSoFar(tx: DbOrTx, lineIds: string[]): Promise<Map<string, number>> {
  if (lineIds.length === 0) return new Map();
  const rows = await tx
    .select({ lineId: invoiceLines.creditedLineId, s: sql<string>`sum(${invoiceLines.amountCents})` })
    .from(invoiceLines)
    .where(and(isNotNull(invoiceLines.creditedLineId), inArray(invoiceLines.creditedLineId, lineIds)))
    .groupBy(invoiceLines.creditedLineId);
  return new Map(rows.map((r) => [r.lineId!, Number(r.s)]));
}

export async function issueCreditNote(ctx: AppContext, opts: IssueCreditNoteOptions): Promise<CreditNoteView> {
  const reason = opts.reason.trim();
  if (reason.length === 0 || reason.length > 500) throw validationError('/reason', 'the reason of the correction, 1 to 500 characters');
  if (opts.lines !== undefined && opts.lines.length === 0) throw validationError('/lines', 'at least one line (or omit lines to credit the whole invoice)');
  const at = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [invoice] = await tx.select().from(invoices).where(eq(invoices.id, opts.invoiceId)).for('update');
    if (!invoice) throw notFound('invoice', opts.invoiceId);
    if (invoice.kind !== 'invoice') throw new AppError('conflict', { code: 'NOT_AN_INVOICE', message: `${invoice.number} is a credit note; only invoices are credited`, clause: CREDIT_NOTE_CLAUSE });
    const lines = await tx.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, invoice.id)).orderBy(asc(invoiceLines.position));
    const done = await creditedSoFar(tx, lines.map((l) => l.id));
    const remaining = (l: (typeof lines)[number]): number => l.amountCents - (done.get(l.id) ?? 0);

    const requested: CreditLineRequest[] = opts.lines ?? lines.filter((l) => remaining(l) !== 0).map((l) => ({ lineId: l.id }));
    const seen = new Set<string>();
    const credit = requested.map((r, i) => {
      const line = lines.find((l) => l.id === r.lineId);
      if (!line) throw validationError(`/lines/${i}/lineId`, `not a line of invoice ${invoice.number}`);
      if (seen.has(line.id)) throw validationError(`/lines/${i}/lineId`, 'each line once');
      seen.add(line.id);
      const left = remaining(line);
      const amount = r.amountCents ?? left;
      if (!Number.isSafeInteger(amount) || amount === 0 || Math.sign(amount) !== Math.sign(line.amountCents) || Math.abs(amount) > Math.abs(left)) {
        throw new RuleViolation('CREDIT_EXCEEDS_INVOICED', CREDIT_NOTE_CLAUSE, `line ${line.position + 1} of ${invoice.number}: ${left} cents remain creditable, ${amount} asked`, { lineId: line.id, remainingCents: left });
      }
      const quantity = r.quantity ?? (amount === line.amountCents ? line.quantity : 1);
      if (!Number.isSafeInteger(quantity) || quantity < 1) throw validationError(`/lines/${i}/quantity`, 'a positive integer');
      return { line, amount, quantity };
    });
    if (credit.length === 0) throw new RuleViolation('CREDIT_EXCEEDS_INVOICED', CREDIT_NOTE_CLAUSE, `${invoice.number} is already fully credited`);

    const issueDate = localDate(at);
    const number = await nextNumber(tx, 'credit_note', Number(issueDate.slice(0, 4)));
    const newLines = credit.map((c) => ({
      type: c.line.type,
      productCode: c.line.productCode,
      zone: c.line.zone,
      quantity: c.quantity,
      periodStart: c.line.periodStart,
      periodEnd: c.line.periodEnd,
      amountCents: c.amount,
      vatRate: c.line.vatRate,
      clause: c.line.clause,
      description: c.line.description,
      creditedLineId: c.line.id,
    }));
    const totals = invoiceTotals(newLines);
    const id = newId(at);
    const row = {
      id,
      number,
      kind: 'credit_note' as const,
      clientId: invoice.clientId,
      runKey: `credit:${id}`,
      issueDate,
      // No payment is due on a credit note; the column holds its issue date.
      dueDate: issueDate,
      issuedAt: at,
      periodStart: null,
      periodEnd: null,
      ...totals,
      // The structured communication of the invoice it corrects.
      structuredReference: invoice.structuredReference,
      status: 'open' as const,
      creditedInvoiceId: invoice.id,
      reason,
      parties: await currentParties(tx, invoice.clientId),
    };
    await tx.insert(invoices).values(row);
    await tx.insert(invoiceLines).values(newLines.map((l, position) => ({ ...l, id: newId(at), invoiceId: id, clientId: invoice.clientId, position })));
    const details = { creditNote: number, invoice: invoice.number, totalInclVatCents: totals.totalInclVatCents, reason };
    await recordEvent(tx, { at, clientId: invoice.clientId, type: 'credit_note', clause: CREDIT_NOTE_CLAUSE, details });
    await recordAudit(tx, { at, actor: opts.actor, action: 'credit_note.issue', entity: 'invoice', entityId: id, clientId: invoice.clientId, before: null, after: { ...row, lines: newLines }, clause: CREDIT_NOTE_CLAUSE, requestId: opts.requestId ?? null });
    for (const hook of onCreditNoteIssued) await hook(tx, { id, clientId: invoice.clientId, number, creditedInvoiceId: invoice.id, totalInclVatCents: totals.totalInclVatCents, at });
    return {
      id,
      number,
      creditedInvoiceId: invoice.id,
      creditedInvoiceNumber: invoice.number,
      issueDate,
      reason,
      ...totals,
      lines: newLines.map((l) => ({ creditedLineId: l.creditedLineId, type: l.type, quantity: l.quantity, amountCents: l.amountCents, vatRate: l.vatRate })),
    };
  });
}
