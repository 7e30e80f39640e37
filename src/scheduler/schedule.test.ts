import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { dueOccurrences, nextOccurrence, type Schedule } from './schedule.ts';

const daily: Schedule = { kind: 'daily' };
const billingDay15: Schedule = { kind: 'monthly', day: 15 };
const at = (iso: string) => new Date(iso);
const iso = (occurrences: { period: string; dueAt: Date }[]) =>
  occurrences.map((o) => [o.period, o.dueAt.toISOString()]);

describe('dueOccurrences, daily', () => {
  it('is due at 00:00 Brussels on every local date in (from, to]', () => {
    expect(iso(dueOccurrences(daily, at('2027-01-04T10:00:00+01:00'), at('2027-01-07T00:00:00+01:00')))).toEqual([
      ['2027-01-05', '2027-01-04T23:00:00.000Z'],
      ['2027-01-06', '2027-01-05T23:00:00.000Z'],
      ['2027-01-07', '2027-01-06T23:00:00.000Z'],
    ]);
  });

  it('excludes an occurrence exactly at `from` and includes one exactly at `to`', () => {
    const midnight = at('2027-01-05T00:00:00+01:00');
    expect(dueOccurrences(daily, midnight, midnight)).toEqual([]);
    expect(iso(dueOccurrences(daily, new Date(midnight.getTime() - 1), midnight))).toEqual([
      ['2027-01-05', '2027-01-04T23:00:00.000Z'],
    ]);
    expect(dueOccurrences(daily, midnight, new Date(midnight.getTime() - 1))).toEqual([]);
  });

  it('spans the spring DST change (last Sunday of March: a 23-hour day)', () => {
    expect(iso(dueOccurrences(daily, at('2027-03-27T12:00:00+01:00'), at('2027-03-29T12:00:00+02:00')))).toEqual([
      ['2027-03-28', '2027-03-27T23:00:00.000Z'],
      ['2027-03-29', '2027-03-28T22:00:00.000Z'],
    ]);
  });

  it('spans the autumn DST change (last Sunday of October: a 25-hour day)', () => {
    expect(iso(dueOccurrences(daily, at('2027-10-30T12:00:00+02:00'), at('2027-11-01T12:00:00+01:00')))).toEqual([
      ['2027-10-31', '2027-10-30T22:00:00.000Z'],
      ['2027-11-01', '2027-10-31T23:00:00.000Z'],
    ]);
  });

  it('crosses the year end and knows leap days', () => {
    expect(dueOccurrences(daily, at('2027-12-30T12:00:00+01:00'), at('2028-01-01T12:00:00+01:00')).map((o) => o.period)).toEqual([
      '2027-12-31',
      '2028-01-01',
    ]);
    expect(dueOccurrences(daily, at('2028-02-28T12:00:00+01:00'), at('2028-03-01T12:00:00+01:00')).map((o) => o.period)).toEqual([
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(dueOccurrences(daily, at('2027-02-28T12:00:00+01:00'), at('2027-03-01T12:00:00+01:00')).map((o) => o.period)).toEqual([
      '2027-03-01',
    ]);
  });
});

describe('dueOccurrences, monthly', () => {
  it('is due on day N at 00:00 Brussels, whatever the offset of the season', () => {
    expect(iso(dueOccurrences(billingDay15, at('2027-02-15T00:00:00+01:00'), at('2027-05-01T00:00:00+02:00')))).toEqual([
      ['2027-03', '2027-03-14T23:00:00.000Z'],
      ['2027-04', '2027-04-14T22:00:00.000Z'],
    ]);
  });

  it('crosses the year end', () => {
    expect(iso(dueOccurrences(billingDay15, at('2027-12-01T00:00:00+01:00'), at('2028-01-15T00:00:00+01:00')))).toEqual([
      ['2027-12', '2027-12-14T23:00:00.000Z'],
      ['2028-01', '2028-01-14T23:00:00.000Z'],
    ]);
  });

  it('on day 28 in February of a leap year and of a common year', () => {
    const day28: Schedule = { kind: 'monthly', day: 28 };
    expect(dueOccurrences(day28, at('2028-02-01T00:00:00+01:00'), at('2028-03-01T00:00:00+01:00')).map((o) => o.dueAt.toISOString())).toEqual([
      '2028-02-27T23:00:00.000Z',
    ]);
    expect(dueOccurrences(day28, at('2027-02-01T00:00:00+01:00'), at('2027-03-01T00:00:00+01:00')).map((o) => o.period)).toEqual([
      '2027-02',
    ]);
  });

  it('refuses a day that some months lack', () => {
    for (const day of [0, 29, 31, 1.5]) {
      expect(() => dueOccurrences({ kind: 'monthly', day }, at('2027-01-01T00:00:00Z'), at('2027-02-01T00:00:00Z'))).toThrow(RangeError);
    }
  });
});

describe('nextOccurrence', () => {
  it('is the first occurrence strictly after the instant', () => {
    expect(nextOccurrence(daily, at('2027-03-28T00:00:00+01:00'))).toEqual({ period: '2027-03-29', dueAt: at('2027-03-29T00:00:00+02:00') });
    expect(nextOccurrence(billingDay15, at('2027-12-15T00:00:00+01:00'))).toEqual({ period: '2028-01', dueAt: at('2028-01-15T00:00:00+01:00') });
  });
});

describe('dueOccurrences, properties', () => {
  const DAY = 86_400_000;
  const instant = (from: string, to: string) =>
    fc.integer({ min: Date.parse(from), max: Date.parse(to) }).map((ms) => new Date(ms));
  const schedule: fc.Arbitrary<Schedule> = fc.oneof(
    fc.constant<Schedule>({ kind: 'daily' }),
    fc.integer({ min: 1, max: 28 }).map((day): Schedule => ({ kind: 'monthly', day })),
  );
  /** A schedule and an interval: up to 100 days for daily jobs, up to 4 years for monthly ones. */
  const interval = schedule.chain((s) =>
    fc
      .tuple(instant('2019-01-01T00:00:00Z', '2040-12-31T00:00:00Z'), fc.integer({ min: 0, max: (s.kind === 'daily' ? 100 : 1460) * DAY }))
      .map(([from, span]) => ({ s, from, to: new Date(from.getTime() + span) })),
  );

  it('occurrences are strictly increasing local midnights in (from, to], each period once, none missed', () => {
    fc.assert(
      fc.property(interval, ({ s, from, to }) => {
        const due = dueOccurrences(s, from, to);
        const periods = new Set<string>();
        let previous = from;
        for (const { period, dueAt } of due) {
          expect(dueAt.getTime()).toBeGreaterThan(previous.getTime());
          expect(dueAt.getTime()).toBeLessThanOrEqual(to.getTime());
          const local = Temporal.Instant.fromEpochMilliseconds(dueAt.getTime()).toZonedDateTimeISO('Europe/Brussels');
          expect([local.hour, local.minute, local.second, local.millisecond]).toEqual([0, 0, 0, 0]);
          expect(period).toBe(s.kind === 'daily' ? local.toPlainDate().toString() : local.toPlainDate().toString().slice(0, 7));
          if (s.kind === 'monthly') expect(local.day).toBe(s.day);
          expect(periods.has(period)).toBe(false);
          periods.add(period);
          // None missed: each occurrence is the next one after the previous.
          expect(nextOccurrence(s, previous).dueAt).toEqual(dueAt);
          previous = dueAt;
        }
        expect(nextOccurrence(s, previous).dueAt.getTime()).toBeGreaterThan(to.getTime());
      }),
      { numRuns: 200 },
    );
  });

  it('splitting the interval in two gives the same occurrences', () => {
    fc.assert(
      fc.property(interval, fc.double({ min: 0, max: 1, noNaN: true }), ({ s, from, to }, cut) => {
        const middle = new Date(from.getTime() + Math.floor((to.getTime() - from.getTime()) * cut));
        expect([...dueOccurrences(s, from, middle), ...dueOccurrences(s, middle, to)]).toEqual(dueOccurrences(s, from, to));
      }),
      { numRuns: 200 },
    );
  });
});
