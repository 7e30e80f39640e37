/**
 * Bank statement import (RULES.md "Dunning and suspension"; issue #6): a CAMT.053 or CODA
 * file is parsed whole first (a malformed file is refused with the position of the fault,
 * nothing recorded), then in ONE transaction: the statement and every entry are recorded,
 * each credit entry becomes a payment through the ordinary matching (structured
 * communication, invoice number in the free text, payer IBAN known for a client), debit
 * entries are recorded and listed but are not payments. Idempotent: a statement already
 * imported, or an entry already recorded for the account, changes nothing (`duplicates`).
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { startOfLocalDay } from '../../kernel/time.ts';
import { actorColumns, recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { BankFileError, parseBankFile, type BankFormat, type BankStatement } from './bank/index.ts';
import { isUniqueViolation } from '../identity/unique-violation.ts';
import { recordPaymentIn } from './record-payment.ts';
import { bankEntries, bankStatements } from './schema.ts';

const MAX_ENTRY_CENTS = 2_147_483_647;

export interface ImportedEntry {
  entryId: string;
  direction: 'credit' | 'debit';
  amountCents: number;
  valueDate: string;
  reference: string | null;
  freeText: string | null;
  payerIban: string | null;
  /** `new`, `duplicate` (already recorded), `ignored` (a debit: listed, not a payment). */
  status: 'new' | 'duplicate' | 'ignored';
  paymentId: string | null;
  matchedBy: string | null;
  clientId: string | null;
  invoices: string[];
}

export interface ImportSummary {
  statementId: string;
  format: BankFormat;
  account: string;
  date: string;
  /** True when this statement had been imported before (nothing changed). */
  alreadyImported: boolean;
  entries: number;
  credits: number;
  debits: number;
  /** New payments recorded by this import. */
  new: number;
  matched: number;
  unallocated: number;
  duplicates: number;
  creditCents: number;
  items: ImportedEntry[];
}

/** A malformed bank file as an application error (HTTP 422 naming the position; CLI exit 1). */
export function bankFileProblem(e: BankFileError): AppError {
  return new AppError('rule', {
    code: 'BANK_FILE_INVALID',
    clause: null,
    message: e.message,
    field: e.path ?? (e.line !== null ? `line ${e.line}${e.column !== null ? `, column ${e.column}` : ''}` : '/'),
    details: { format: e.format, line: e.line, column: e.column, path: e.path },
  });
}

export interface ImportOptions {
  actor: AuditActor;
  text: string;
  format?: BankFormat | undefined;
  requestId?: string | undefined;
}

export async function importBankStatement(ctx: AppContext, opts: ImportOptions): Promise<ImportSummary> {
  const parsed = parseBankFile(opts.text, opts.format);
  if (parsed instanceof BankFileError) throw bankFileProblem(parsed);
  // Amounts are stored as 32-bit integer cents (21 474 836.47 €): a larger movement is refused, never truncated.
  const huge = parsed.entries.find((e) => e.amountCents > MAX_ENTRY_CENTS);
  if (huge) throw new AppError('rule', { code: 'BANK_FILE_INVALID', clause: null, message: `entry ${huge.entryId}: amount ${huge.amountCents} cents above the maximum ${MAX_ENTRY_CENTS}`, field: `entry ${huge.entryId}` });
  try {
    return await importParsed(ctx, opts, parsed);
  } catch (e) {
    // The same statement imported at the same moment by another request: it is now known.
    if (isUniqueViolation(e, 'payments_bank_statements_uq')) return importParsed(ctx, opts, parsed);
    throw e;
  }
}

async function importParsed(ctx: AppContext, opts: ImportOptions, st: BankStatement): Promise<ImportSummary> {
  const now = ctx.clock.now();
  const sha = createHash('sha256').update(opts.text).digest('hex');
  return ctx.db.transaction(async (tx) => {
    const summary: ImportSummary = {
      statementId: st.statementId,
      format: st.format,
      account: st.account,
      date: st.date,
      alreadyImported: false,
      entries: st.entries.length,
      credits: st.entries.filter((e) => e.direction === 'credit').length,
      debits: st.entries.filter((e) => e.direction === 'debit').length,
      new: 0,
      matched: 0,
      unallocated: 0,
      duplicates: 0,
      creditCents: 0,
      items: [],
    };
    const [known] = await tx.select({ id: bankStatements.id }).from(bankStatements).where(eq(bankStatements.statementId, st.statementId)).limit(1);
    if (known) {
      summary.alreadyImported = true;
      summary.duplicates = st.entries.length;
      summary.items = st.entries.map((e) => ({ entryId: e.entryId, direction: e.direction, amountCents: e.amountCents, valueDate: e.valueDate, reference: e.structuredReference, freeText: e.freeText, payerIban: e.payerIban, status: 'duplicate', paymentId: null, matchedBy: null, clientId: null, invoices: [] }));
      return summary;
    }
    const statementRowId = newId(now);
    await tx.insert(bankStatements).values({
      id: statementRowId,
      statementId: st.statementId,
      format: st.format,
      account: st.account,
      statementDate: st.date,
      fileSha256: sha,
      entries: st.entries.length,
      importedAt: now,
      importedBy: actorColumns(opts.actor).actorLabel,
    });
    for (const e of st.entries) {
      const item: ImportedEntry = { entryId: e.entryId, direction: e.direction, amountCents: e.amountCents, valueDate: e.valueDate, reference: e.structuredReference, freeText: e.freeText, payerIban: e.payerIban, status: 'new', paymentId: null, matchedBy: null, clientId: null, invoices: [] };
      summary.items.push(item);
      const inserted = await tx
        .insert(bankEntries)
        .values({
          id: newId(now),
          statementRowId,
          account: st.account,
          entryId: e.entryId,
          direction: e.direction,
          amountCents: e.amountCents,
          bookingDate: e.bookingDate,
          valueDate: e.valueDate,
          structuredReference: e.structuredReference,
          freeText: e.freeText,
          payerIban: e.payerIban,
          payerName: e.payerName,
          bankReference: e.bankReference,
        })
        .onConflictDoNothing()
        .returning({ id: bankEntries.id });
      if (inserted.length === 0) {
        item.status = 'duplicate';
        summary.duplicates++;
        continue;
      }
      if (e.direction === 'debit') {
        item.status = 'ignored';
        continue;
      }
      // The value date is the payment date (§5.2: the payment day counts for interest).
      const { view, created } = await recordPaymentIn(tx, now, {
        actor: opts.actor,
        amountCents: e.amountCents,
        reference: e.structuredReference ?? undefined,
        freeText: e.freeText ?? undefined,
        payerIban: e.payerIban ?? undefined,
        paidAt: startOfLocalDay(e.valueDate) < now ? startOfLocalDay(e.valueDate) : now,
        externalId: `bank:${st.account}:${e.entryId}`,
        bankEntryId: inserted[0]!.id,
        requestId: opts.requestId,
      });
      await tx.update(bankEntries).set({ paymentId: view.id }).where(eq(bankEntries.id, inserted[0]!.id));
      Object.assign(item, { paymentId: view.id, matchedBy: view.matchedBy, clientId: view.clientId, invoices: view.allocations.map((a) => a.invoiceNumber) });
      if (!created) {
        item.status = 'duplicate';
        summary.duplicates++;
        continue;
      }
      summary.new++;
      summary.creditCents += e.amountCents;
      if (view.clientId === null) summary.unallocated++;
      else summary.matched++;
    }
    const { items: _items, ...counts } = summary;
    await recordAudit(tx, { at: now, actor: opts.actor, action: 'bank_statement.import', entity: 'bank_statement', entityId: statementRowId, clientId: null, before: null, after: { ...counts, sha256: sha }, clause: '5.2', requestId: opts.requestId ?? null });
    return summary;
  });
}
