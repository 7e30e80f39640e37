/**
 * Invoice totals (§5.1, SCENARIOS.md): VAT = half-up of 21 % of the sum of the 21 % lines;
 * 0 % lines (interest, reminder fees: category O) carry no VAT. §5.2: due 30 days after the invoice date.
 */
import { sumCents, vatCents } from '../../kernel/money.ts';
import { addDays, type LocalDate } from '../../kernel/time.ts';

export const VAT_RATE = 21;
export const PAYMENT_TERM_DAYS = 30;

export interface Totals {
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
}

export function invoiceTotals(lines: readonly { amountCents: number; vatRate: number }[]): Totals {
  const totalExclVatCents = sumCents(lines.map((l) => l.amountCents));
  const vat = vatCents(sumCents(lines.filter((l) => l.vatRate === VAT_RATE).map((l) => l.amountCents)), VAT_RATE);
  return { totalExclVatCents, vatCents: vat, totalInclVatCents: totalExclVatCents + vat };
}

/** §5.2: the due date, 30 days after the invoice date. */
export const dueDateOf = (issueDate: LocalDate): LocalDate => addDays(issueDate, PAYMENT_TERM_DAYS);

/** RULES.md "Invoice numbers": `YYYY-NNNNNN` (credit notes `NCYYYY-NNNNNN`). */
export function formatInvoiceNumber(kind: 'invoice' | 'credit_note', year: number, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > 999_999) throw new RangeError(`invoice sequence out of range: ${seq}`);
  return `${kind === 'credit_note' ? 'NC' : ''}${year}-${String(seq).padStart(6, '0')}`;
}
