import { describe, expect, it } from 'vitest';
import { commitmentEnd, countsForMonth, pendingReleaseDate, quarantineEndsOn, releaseIsImmediate, reservationExpiresOn } from './number-lifecycle.ts';

describe('number lifecycle dates', () => {
  it('§3.6 a reservation made on D is freed by the job of D+30', () => {
    expect(reservationExpiresOn('2027-01-04')).toBe('2027-02-03');
    expect(reservationExpiresOn('2028-02-15')).toBe('2028-03-16'); // leap year
  });

  it('quarantine of 90 days', () => {
    expect(quarantineEndsOn('2027-01-10')).toBe('2027-04-10');
    expect(quarantineEndsOn('2027-12-01')).toBe('2028-02-29');
  });

  it('§8.6 commitment: assigned 2027-01-15 → last day 2028-01-14, released by the job of 2028-01-15', () => {
    expect(commitmentEnd('2027-01-15')).toBe('2028-01-14');
    expect(pendingReleaseDate('2028-01-14')).toBe('2028-01-15');
    expect(releaseIsImmediate('2027-06-01', '2028-01-14')).toBe(false);
    expect(releaseIsImmediate('2028-01-14', '2028-01-14')).toBe(false); // on the last day: still pending
    expect(releaseIsImmediate('2028-01-15', '2028-01-14')).toBe(true);
    expect(releaseIsImmediate('2027-06-01', null)).toBe(true); // national numbers
  });

  it('§8.6 leap years: 29 Feb is inside the commitment, a 29 Feb assignment clamps like contract terms', () => {
    expect(commitmentEnd('2027-03-01')).toBe('2028-02-29');
    expect(commitmentEnd('2027-02-28')).toBe('2028-02-27');
    expect(commitmentEnd('2028-02-29')).toBe('2029-02-27');
    expect(commitmentEnd('2028-03-01')).toBe('2029-02-28');
  });

  it('§8.6 a pending number counts for months that begin on or before the last day', () => {
    const n = { releasePending: true, commitmentEnd: '2028-01-14' };
    expect(countsForMonth(n, '2028-01-01')).toBe(true);
    expect(countsForMonth(n, '2028-02-01')).toBe(false);
    expect(countsForMonth({ releasePending: true, commitmentEnd: '2028-01-31' }, '2028-01-31')).toBe(true);
    expect(countsForMonth({ releasePending: false, commitmentEnd: '2028-01-14' }, '2028-05-01')).toBe(true);
  });
});
