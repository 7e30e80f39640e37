/**
 * §8.3 packs: a pack gives `minutes × quantity` per calendar month for its zones,
 * prorated like its price in a month that the service start (or the end date) cuts,
 * rounded down to whole seconds. Allowances do not roll over.
 */
import { floorDiv } from '../../kernel/money.ts';
import { daysBetween, daysInMonth, firstOfMonth, lastOfMonth, type LocalDate } from '../../kernel/time.ts';

/** Days of `month` (any date in it) with service: from the start date (inclusive) to the end date (inclusive); 0 when none. */
export function serviceDaysInMonth(month: LocalDate, serviceStart: LocalDate, endDate: LocalDate | null): number {
  const first = firstOfMonth(month);
  const last = lastOfMonth(month);
  const from = serviceStart > first ? serviceStart : first;
  const to = endDate !== null && endDate < last ? endDate : last;
  return to < from ? 0 : daysBetween(from, to) + 1;
}

/** §8.3: seconds of allowance of a pack line for the month of `month`. */
export function packAllowanceSeconds(p: { minutes: number; quantity: number; month: LocalDate; serviceStart: LocalDate; endDate: LocalDate | null }): number {
  const full = BigInt(p.minutes) * BigInt(p.quantity) * 60n;
  const days = serviceDaysInMonth(p.month, p.serviceStart, p.endDate);
  return Number(floorDiv(full * BigInt(days), BigInt(daysInMonth(p.month))));
}
