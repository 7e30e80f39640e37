import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { localDate } from '../../kernel/time.ts';
import { localDayCache } from './db-call-policy.ts';

const at = (iso: string): Date => new Date(iso);

describe('localDayCache (RULES.md, Conventions: local time is Europe/Brussels)', () => {
  it('ends a 23-hour day at the right instant when clocks go forward (2027-03-28)', () => {
    const dayOf = localDayCache();
    expect(dayOf(at('2027-03-28T12:00:00Z'))).toBe('2027-03-28'); // primes the span
    expect(dayOf(at('2027-03-27T23:00:00Z'))).toBe('2027-03-28'); // 00:00 CET
    expect(dayOf(at('2027-03-28T21:59:59.999Z'))).toBe('2027-03-28'); // 23:59:59.999 CEST
    expect(dayOf(at('2027-03-28T22:00:00Z'))).toBe('2027-03-29'); // 00:00 CEST
    expect(dayOf(at('2027-03-28T12:00:00Z'))).toBe('2027-03-28');
    expect(dayOf(at('2027-03-27T22:59:59.999Z'))).toBe('2027-03-27'); // before the span: converted again
  });

  it('ends a 25-hour day at the right instant when clocks go back (2027-10-31)', () => {
    const dayOf = localDayCache();
    expect(dayOf(at('2027-10-31T00:30:00Z'))).toBe('2027-10-31'); // 02:30 CEST, before the change
    expect(dayOf(at('2027-10-31T01:30:00Z'))).toBe('2027-10-31'); // 02:30 CET, after it
    expect(dayOf(at('2027-10-31T22:59:59.999Z'))).toBe('2027-10-31'); // 23:59:59.999 CET
    expect(dayOf(at('2027-10-31T23:00:00Z'))).toBe('2027-11-01');
    expect(dayOf(at('2027-10-30T21:59:59.999Z'))).toBe('2027-10-30'); // 23:59:59.999 CEST
    expect(dayOf(at('2027-10-30T22:00:00Z'))).toBe('2027-10-31');
  });

  it('always agrees with the time-zone conversion, whatever the order of the instants', () => {
    const around = [Date.parse('2027-03-28T01:00:00Z'), Date.parse('2027-10-31T01:00:00Z'), Date.parse('2028-01-01T00:00:00Z')];
    const instant = fc.oneof(
      fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2029-01-01T00:00:00Z') }),
      fc.tuple(fc.constantFrom(...around), fc.integer({ min: -30 * 3_600_000, max: 30 * 3_600_000 })).map(([t, d]) => t + d),
    );
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 30 }), (times) => {
        const dayOf = localDayCache();
        return times.every((t) => dayOf(new Date(t)) === localDate(new Date(t)));
      }),
    );
  });
});
