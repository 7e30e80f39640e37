import { Temporal } from 'temporal-polyfill';

/**
 * Local calendar (RULES.md, Conventions): local time is Europe/Brussels and "day N" is a
 * local calendar date, written `YYYY-MM-DD`. Instants are `Date`s.
 */
export const TZ = 'Europe/Brussels';

/** A local calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

function plainDate(date: LocalDate): Temporal.PlainDate {
  if (!LOCAL_DATE.test(date)) throw new RangeError(`invalid local date ${JSON.stringify(date)}: expected YYYY-MM-DD`);
  return Temporal.PlainDate.from(date); // throws a RangeError for 2027-02-30
}

function zoned(instant: Date): Temporal.ZonedDateTime {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) throw new RangeError('invalid instant');
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(TZ);
}

export function isLocalDate(s: string): boolean {
  try {
    plainDate(s);
    return true;
  } catch {
    return false;
  }
}

/** The Brussels calendar date of an instant. */
export const localDate = (instant: Date): LocalDate => zoned(instant).toPlainDate().toString();

/** 00:00 Brussels time on `date`, as an instant (exists every day: DST shifts happen at 02:00/03:00). */
export const startOfLocalDay = (date: LocalDate): Date =>
  new Date(plainDate(date).toZonedDateTime({ timeZone: TZ }).epochMilliseconds);

/** The first local midnight strictly after `instant`. */
export const nextLocalMidnight = (instant: Date): Date => startOfLocalDay(addDays(localDate(instant), 1));

export const addDays = (date: LocalDate, days: number): LocalDate => plainDate(date).add({ days }).toString();

/** Calendar months; a day missing in the target month is clamped to its last day (Jan 31 + 1 month = Feb 28/29). */
export const addMonths = (date: LocalDate, months: number): LocalDate => plainDate(date).add({ months }).toString();

/** b − a in days (negative when b is before a). */
export const daysBetween = (a: LocalDate, b: LocalDate): number =>
  plainDate(a).until(plainDate(b), { largestUnit: 'days' }).days;

export const daysInMonth = (date: LocalDate): number => plainDate(date).daysInMonth;

export const firstOfMonth = (date: LocalDate): LocalDate => plainDate(date).with({ day: 1 }).toString();

export const lastOfMonth = (date: LocalDate): LocalDate => {
  const d = plainDate(date);
  return d.with({ day: d.daysInMonth }).toString();
};

/** First day of the calendar quarter containing `date` (§8.5). */
export const quarterStart = (date: LocalDate): LocalDate => {
  const d = plainDate(date);
  return d.with({ month: d.month - ((d.month - 1) % 3), day: 1 }).toString();
};

/** Last day of the calendar quarter containing `date` (§8.5). */
export const quarterEnd = (date: LocalDate): LocalDate => lastOfMonth(addMonths(quarterStart(date), 2));

/** Terms (RULES.md, Precise definitions; §11.1, §8.6): start + N calendar months − 1 day. */
export const minimumTermEnd = (start: LocalDate, months: number): LocalDate => addDays(addMonths(start, months), -1);

/** `2027-04-28T00:00:00+02:00`: Brussels wall time with its offset, to the second (milliseconds are dropped). */
export const formatLocalInstant = (instant: Date): string =>
  zoned(instant).toString({ smallestUnit: 'second', timeZoneName: 'never' });

/** An ISO 8601 instant with an offset or `Z` (`2027-04-28T00:00:00+02:00`); a RangeError otherwise. */
export function parseInstant(s: string): Date {
  try {
    return new Date(Temporal.Instant.from(s).epochMilliseconds);
  } catch {
    throw new RangeError(`invalid instant ${JSON.stringify(s)}: expected ISO 8601 with an offset`);
  }
}
