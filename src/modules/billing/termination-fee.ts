/**
 * §11.2 / §13.2 the termination fee, pure. Due when the client terminates early during
 * the minimum term (§11.2, ground `early`, by the client) or when the operator terminates
 * under §12.1 / §12.2 (§13.2). No fee for any other ground — §12.3a, §15.2, §18, a
 * termination with notice of an indefinite contract (§11.4), or the client's own §12.1
 * right — nor once the minimum term is over.
 * Amount (policy setting, RULES.md): the monthly recurring amount of the last invoice
 * (excluding traffic and national numbers) × the months of the minimum term that remain
 * after the last invoiced period: whole calendar months, a partial month pro rata by days;
 * the exact sum rounded half-up once. VAT 21 % applies (category S).
 */
import { roundHalfUpDiv, toSafeInteger } from '../../kernel/money.ts';
import { addDays, daysInMonth, type LocalDate } from '../../kernel/time.ts';
import { monthSegments } from './proration.ts';

export interface TerminationFeeInput {
  /** The termination ground (customers' TERMINATION_GROUNDS). */
  ground: string | null;
  /** Who terminated: `client` or `operator`. */
  by: string | null;
  serviceStartDate: LocalDate | null;
  minimumTermEnd: LocalDate | null;
  /** The last day already invoiced by a billing run; null when never. */
  lastBilledThrough: LocalDate | null;
  /** Monthly recurring amount of the last invoice, excluding traffic and national numbers. */
  monthlyCents: number;
}

export interface TerminationFee {
  cents: number;
  clause: '11.2' | '13.2';
  /** The remaining stretch of the minimum term the fee covers. */
  from: LocalDate;
  through: LocalDate;
  wholeMonths: number;
  /** Partial months as `days/daysInMonth`. */
  partial: string[];
}

/** The clause that makes a fee due, or null (§11.2, §13.2). */
export function feeClause(ground: string | null, by: string | null): '11.2' | '13.2' | null {
  if (ground === 'early' && by === 'client') return '11.2';
  if (by === 'operator' && (ground === '12.1' || ground === '12.2a' || ground === '12.2')) return '13.2';
  return null;
}

export function terminationFee(input: TerminationFeeInput): TerminationFee | null {
  const clause = feeClause(input.ground, input.by);
  if (clause === null || input.serviceStartDate === null || input.minimumTermEnd === null || input.monthlyCents <= 0) return null;
  const from = input.lastBilledThrough === null ? input.serviceStartDate : addDays(input.lastBilledThrough, 1);
  if (from > input.minimumTermEnd) return null;
  const segments = monthSegments(from, input.minimumTermEnd);
  // Exact: monthly × (whole + Σ days/dim), over the common denominator, rounded once.
  let num = 0n;
  let den = 1n;
  let wholeMonths = 0;
  const partial: string[] = [];
  for (const s of segments) {
    if (s.whole) {
      wholeMonths++;
      continue;
    }
    const dim = BigInt(daysInMonth(s.month));
    num = num * dim + BigInt(s.days) * den;
    den *= dim;
    partial.push(`${s.days}/${dim}`);
  }
  num += BigInt(wholeMonths) * den;
  const cents = toSafeInteger(roundHalfUpDiv(BigInt(input.monthlyCents) * num, den), 'termination fee');
  if (cents <= 0) return null;
  return { cents, clause, from, through: input.minimumTermEnd, wholeMonths, partial };
}
