/**
 * §8.1 "Months billed", pure: the calendar months of a billed stretch, whole months at
 * the monthly price (`recurring`), months cut by the start date or the end date pro rata
 * by days (`prorata`, monthly × quantity × days / daysInMonth, half-up per line).
 */
import { prorata } from '../../kernel/money.ts';
import { addDays, addMonths, daysBetween, daysInMonth, firstOfMonth, lastOfMonth, type LocalDate } from '../../kernel/time.ts';

export interface MonthSegment {
  /** First day billed in the month. */
  start: LocalDate;
  /** Last day billed in the month. */
  end: LocalDate;
  /** The 1st of the month. */
  month: LocalDate;
  days: number;
  /** The whole calendar month. */
  whole: boolean;
}

/** The month segments of [from, through] (inclusive); empty when through < from. */
export function monthSegments(from: LocalDate, through: LocalDate): MonthSegment[] {
  const out: MonthSegment[] = [];
  let start = from;
  while (start <= through) {
    const month = firstOfMonth(start);
    const last = lastOfMonth(start);
    const end = through < last ? through : last;
    out.push({ start, end, month, days: daysBetween(start, end) + 1, whole: start === month && end === last });
    start = addDays(end, 1);
  }
  return out;
}

/** §8.1: the amount of one product over one month segment. */
export function segmentAmountCents(monthlyCents: number, quantity: number, seg: MonthSegment): number {
  return seg.whole ? monthlyCents * quantity : prorata(monthlyCents, quantity, seg.days, daysInMonth(seg.month));
}

/** §8.1: a run on `runDate` bills through the last day of the next month (P+1), never past the end date. */
export function billedThrough(runDate: LocalDate, endDate: LocalDate | null): LocalDate {
  const through = lastOfMonth(addMonths(firstOfMonth(runDate), 1));
  return endDate !== null && endDate < through ? endDate : through;
}
