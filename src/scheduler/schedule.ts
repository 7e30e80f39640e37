/**
 * When jobs are due (SCENARIOS.md "Time"): every job runs at 00:00 Europe/Brussels,
 * either every day or on one day of the month. Pure: no clock, no database.
 *
 * Local midnight exists every day in Brussels (DST shifts happen at 02:00/03:00), so each
 * local date has exactly one due instant, 23, 24 or 25 hours after the previous one.
 */
import { addDays, addMonths, localDate, startOfLocalDay, type LocalDate } from '../kernel/time.ts';

export type Schedule =
  /** Every day at 00:00 local; period `YYYY-MM-DD`. */
  | { readonly kind: 'daily' }
  /** Day `day` (1..28, so it exists in every month) at 00:00 local; period `YYYY-MM`. */
  | { readonly kind: 'monthly'; readonly day: number };

export interface Occurrence {
  /** The run's key: `YYYY-MM-DD` (daily) or `YYYY-MM` (monthly). */
  readonly period: string;
  readonly dueAt: Date;
}

export function validateSchedule(schedule: Schedule): void {
  if (schedule.kind === 'monthly' && !(Number.isInteger(schedule.day) && schedule.day >= 1 && schedule.day <= 28)) {
    throw new RangeError(`a monthly schedule's day must be an integer in 1..28, got ${schedule.day}`);
  }
}

function checkInstant(instant: Date, name: string): void {
  if (Number.isNaN(instant.getTime())) throw new RangeError(`${name} is an invalid instant`);
}

/** The occurrence of `schedule` on the local date `date` (daily) or in the month of `date` (monthly). */
function occurrenceOf(schedule: Schedule, date: LocalDate): Occurrence {
  if (schedule.kind === 'daily') return { period: date, dueAt: startOfLocalDay(date) };
  const month = date.slice(0, 7);
  return { period: month, dueAt: startOfLocalDay(`${month}-${String(schedule.day).padStart(2, '0')}`) };
}

/** Occurrences strictly after `after`, in increasing order, without end. */
function* occurrencesAfter(schedule: Schedule, after: Date): Generator<Occurrence, never> {
  validateSchedule(schedule);
  checkInstant(after, 'after');
  const step = (date: LocalDate): LocalDate => (schedule.kind === 'daily' ? addDays(date, 1) : addMonths(date, 1));
  // Start from the occurrence of `after`'s own local day/month: it is either ≤ `after` (skipped) or the first one.
  let date = schedule.kind === 'daily' ? localDate(after) : `${localDate(after).slice(0, 7)}-01`;
  for (;;) {
    const occurrence = occurrenceOf(schedule, date);
    if (occurrence.dueAt > after) yield occurrence;
    date = step(date);
  }
}

/** The occurrences due in (fromExclusive, toInclusive], in increasing order. */
export function dueOccurrences(schedule: Schedule, fromExclusive: Date, toInclusive: Date): Occurrence[] {
  checkInstant(toInclusive, 'toInclusive');
  const due: Occurrence[] = [];
  for (const occurrence of occurrencesAfter(schedule, fromExclusive)) {
    if (occurrence.dueAt > toInclusive) break;
    due.push(occurrence);
  }
  return due;
}

/** The first occurrence strictly after `after`. */
export function nextOccurrence(schedule: Schedule, after: Date): Occurrence {
  return occurrencesAfter(schedule, after).next().value;
}
