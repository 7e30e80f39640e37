import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addDays,
  addMonths,
  daysBetween,
  daysInMonth,
  firstOfMonth,
  formatLocalInstant,
  isLocalDate,
  lastOfMonth,
  localDate,
  minimumTermEnd,
  nextLocalMidnight,
  parseInstant,
  quarterEnd,
  quarterStart,
  startOfLocalDay,
} from './time.ts';

const HOUR = 3_600_000;
const iso = (s: string): Date => new Date(s);
/** Local dates from 2000 to 2099. */
const localDates = fc
  .date({ min: new Date('2000-01-01T12:00:00Z'), max: new Date('2099-12-31T12:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const instants = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true });

describe('local dates and instants', () => {
  it('maps instants to Brussels dates', () => {
    expect(localDate(iso('2027-04-27T22:00:00Z'))).toBe('2027-04-28'); // CEST, +02:00
    expect(localDate(iso('2027-04-27T21:59:59.999Z'))).toBe('2027-04-27');
    expect(localDate(iso('2027-01-27T23:00:00Z'))).toBe('2027-01-28'); // CET, +01:00
    expect(localDate(iso('2027-12-31T23:30:00Z'))).toBe('2028-01-01');
    expect(() => localDate(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('finds 00:00 local, DST safe', () => {
    expect(startOfLocalDay('2027-04-28').toISOString()).toBe('2027-04-27T22:00:00.000Z');
    expect(startOfLocalDay('2027-01-28').toISOString()).toBe('2027-01-27T23:00:00.000Z');
    // last Sundays of March and October 2027: 00:00 exists, the day lasts 23 h and 25 h
    expect(startOfLocalDay('2027-03-28').toISOString()).toBe('2027-03-27T23:00:00.000Z');
    expect(startOfLocalDay('2027-03-29').getTime() - startOfLocalDay('2027-03-28').getTime()).toBe(23 * HOUR);
    expect(startOfLocalDay('2027-10-31').toISOString()).toBe('2027-10-30T22:00:00.000Z');
    expect(startOfLocalDay('2027-11-01').getTime() - startOfLocalDay('2027-10-31').getTime()).toBe(25 * HOUR);
    expect(startOfLocalDay('2028-02-29').toISOString()).toBe('2028-02-28T23:00:00.000Z');
  });

  it('refuses malformed dates', () => {
    for (const bad of ['2027-02-30', '2027-13-01', '2027-1-01', '20270101', '2027-01-01T00:00', '2027-02-29', '']) {
      expect(isLocalDate(bad)).toBe(false);
      expect(() => startOfLocalDay(bad)).toThrow(RangeError);
    }
    expect(isLocalDate('2028-02-29')).toBe(true);
  });

  it('gives the next local midnight, strictly after', () => {
    expect(nextLocalMidnight(iso('2027-03-27T23:00:00Z')).toISOString()).toBe('2027-03-28T22:00:00.000Z');
    expect(nextLocalMidnight(iso('2027-03-28T12:00:00Z')).toISOString()).toBe('2027-03-28T22:00:00.000Z');
    expect(nextLocalMidnight(iso('2027-10-31T00:00:00Z')).toISOString()).toBe('2027-10-31T23:00:00.000Z');
  });

  it('startOfLocalDay ∘ localDate is a local midnight on the same day, at most 25 h back', () => {
    fc.assert(
      fc.property(instants, (t) => {
        const start = startOfLocalDay(localDate(t));
        const next = nextLocalMidnight(t);
        return (
          localDate(start) === localDate(t) &&
          start <= t &&
          next > t &&
          formatLocalInstant(start).slice(11, 19) === '00:00:00' &&
          [23, 24, 25].includes((next.getTime() - start.getTime()) / HOUR)
        );
      }),
    );
  });
});

describe('calendar arithmetic', () => {
  it('adds days and months', () => {
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-01-01', -1)).toBe('2026-12-31');
    expect(addMonths('2027-01-31', 1)).toBe('2027-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2027-03-31', -1)).toBe('2027-02-28');
    expect(addMonths('2028-02-29', 12)).toBe('2029-02-28');
    expect(addMonths('2028-02-10', 3)).toBe('2028-05-10');
  });

  it('counts days between dates', () => {
    expect(daysBetween('2027-01-01', '2027-01-31')).toBe(30);
    expect(daysBetween('2027-01-31', '2027-01-01')).toBe(-30);
    expect(daysBetween('2028-02-28', '2028-03-01')).toBe(2);
    expect(daysBetween('2027-03-27', '2027-03-29')).toBe(2); // across the DST change
    expect(daysBetween('2027-01-01', '2028-01-01')).toBe(365);
  });

  it('knows months and quarters', () => {
    expect(daysInMonth('2028-02-10')).toBe(29);
    expect(daysInMonth('2027-02-10')).toBe(28);
    expect(daysInMonth('2100-02-01')).toBe(28);
    expect(daysInMonth('2027-04-30')).toBe(30);
    expect(firstOfMonth('2027-04-30')).toBe('2027-04-01');
    expect(lastOfMonth('2028-02-01')).toBe('2028-02-29');
    expect(lastOfMonth('2027-12-15')).toBe('2027-12-31');
    expect(quarterStart('2027-01-01')).toBe('2027-01-01');
    expect(quarterStart('2027-03-31')).toBe('2027-01-01');
    expect(quarterStart('2027-05-17')).toBe('2027-04-01');
    expect(quarterStart('2027-12-31')).toBe('2027-10-01');
    expect(quarterEnd('2027-01-01')).toBe('2027-03-31');
    expect(quarterEnd('2027-08-31')).toBe('2027-09-30');
    expect(quarterEnd('2027-11-02')).toBe('2027-12-31');
  });

  it('computes the minimum term end (Precise definitions)', () => {
    expect(minimumTermEnd('2027-03-01', 60)).toBe('2032-02-29');
    expect(minimumTermEnd('2027-01-15', 60)).toBe('2032-01-14');
    expect(minimumTermEnd('2027-05-10', 12)).toBe('2028-05-09');
    expect(minimumTermEnd('2027-01-01', 1)).toBe('2027-01-31');
    expect(minimumTermEnd('2028-02-29', 12)).toBe('2029-02-27'); // clamped to 02-28, then − 1 day
  });

  it('addDays and daysBetween agree', () => {
    fc.assert(
      fc.property(localDates, fc.integer({ min: -5000, max: 5000 }), (d, n) => daysBetween(d, addDays(d, n)) === n),
    );
  });

  it('months and quarters contain their date', () => {
    fc.assert(
      fc.property(localDates, (d) => {
        const qs = quarterStart(d);
        const qe = quarterEnd(d);
        return (
          firstOfMonth(d) <= d &&
          d <= lastOfMonth(d) &&
          daysBetween(firstOfMonth(d), lastOfMonth(d)) === daysInMonth(d) - 1 &&
          qs <= d &&
          d <= qe &&
          [0, 3, 6, 9].includes(Number(qs.slice(5, 7)) - 1) &&
          addDays(qe, 1) === addMonths(qs, 3)
        );
      }),
    );
  });

  it('addMonths keeps the day or clamps to the month end', () => {
    fc.assert(
      fc.property(localDates, fc.integer({ min: -240, max: 240 }), (d, n) => {
        const r = addMonths(d, n);
        return r.slice(8) === d.slice(8) || r === lastOfMonth(r);
      }),
    );
  });
});

describe('formatLocalInstant / parseInstant', () => {
  it('formats with the Brussels offset, to the second', () => {
    expect(formatLocalInstant(iso('2027-04-27T22:00:00Z'))).toBe('2027-04-28T00:00:00+02:00');
    expect(formatLocalInstant(iso('2027-01-27T23:00:00.999Z'))).toBe('2027-01-28T00:00:00+01:00');
    expect(formatLocalInstant(iso('2027-03-28T01:00:00Z'))).toBe('2027-03-28T03:00:00+02:00');
    expect(formatLocalInstant(iso('2027-10-31T00:30:00Z'))).toBe('2027-10-31T02:30:00+02:00');
    expect(formatLocalInstant(iso('2027-10-31T01:30:00Z'))).toBe('2027-10-31T02:30:00+01:00');
  });

  it('parses instants with an offset only', () => {
    expect(parseInstant('2027-04-28T00:00:00+02:00').toISOString()).toBe('2027-04-27T22:00:00.000Z');
    expect(parseInstant('2027-04-27T22:00:00.123Z').toISOString()).toBe('2027-04-27T22:00:00.123Z');
    for (const bad of ['2027-04-28T00:00:00', '2027-04-28', 'yesterday', '']) {
      expect(() => parseInstant(bad)).toThrow(RangeError);
    }
  });

  it('round-trips at second precision', () => {
    fc.assert(
      fc.property(instants, (t) => {
        const s = formatLocalInstant(t);
        return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/.test(s) && parseInstant(s).getTime() === Math.floor(t.getTime() / 1000) * 1000;
      }),
    );
  });
});
