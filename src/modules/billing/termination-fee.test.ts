/** §11.2 / §13.2 termination fee: when it is due, and its amount at the boundaries. */
import { describe, expect, it } from 'vitest';
import { feeClause, terminationFee } from './termination-fee.ts';

const base = { serviceStartDate: '2027-01-15', minimumTermEnd: '2028-01-14', lastBilledThrough: '2027-02-28', monthlyCents: 3400 };

describe('termination fee', () => {
  it('is due for an early termination by the client (11.2) and an operator termination under 12.1 / 12.2 (13.2) only', () => {
    expect(feeClause('early', 'client')).toBe('11.2');
    expect(feeClause('12.1', 'operator')).toBe('13.2');
    expect(feeClause('12.2a', 'operator')).toBe('13.2');
    for (const [ground, by] of [['12.1', 'client'], ['12.3a', 'client'], ['15.2', 'client'], ['18', 'client'], ['18', 'operator'], ['notice', 'client'], ['notice', 'operator'], ['early', 'operator'], [null, null]] as const) {
      expect(feeClause(ground, by), `${ground} by ${by}`).toBeNull();
      expect(terminationFee({ ...base, ground, by })).toBeNull();
    }
  });

  it('whole months plus the last partial month pro rata by days, rounded half-up once', () => {
    expect(terminationFee({ ...base, ground: 'early', by: 'client' })).toEqual({ cents: 35535, clause: '11.2', from: '2027-03-01', through: '2028-01-14', wholeMonths: 10, partial: ['14/31'] });
  });

  it('boundaries: one day left, nothing left, term ending on a month end, never billed, leap February', () => {
    // The last invoiced day is the day before the term end: one day of January 2028.
    expect(terminationFee({ ...base, lastBilledThrough: '2028-01-13', ground: 'early', by: 'client' })).toMatchObject({ cents: 110, wholeMonths: 0, partial: ['1/31'] }); // 3400/31 = 109.68
    // Invoiced through the term end (or beyond): no fee.
    expect(terminationFee({ ...base, lastBilledThrough: '2028-01-14', ground: 'early', by: 'client' })).toBeNull();
    expect(terminationFee({ ...base, lastBilledThrough: '2028-02-29', ground: 'early', by: 'client' })).toBeNull();
    // A term ending on a month's last day: whole months only.
    expect(terminationFee({ ...base, minimumTermEnd: '2027-12-31', ground: '12.1', by: 'operator' })).toMatchObject({ cents: 34000, wholeMonths: 10, partial: [] });
    // Never billed by a run: from the service start (partial start month, whole months, partial end month).
    expect(terminationFee({ ...base, lastBilledThrough: null, minimumTermEnd: '2027-03-14', ground: 'early', by: 'client' })).toMatchObject({
      wholeMonths: 1,
      partial: ['17/31', '14/31'],
      cents: 3400 + 1865 + 1535, // 3400 × (1 + 17/31 + 14/31) = 6800 exactly
    });
    // Leap February 2028: 29 days.
    expect(terminationFee({ ...base, lastBilledThrough: '2028-01-31', minimumTermEnd: '2028-02-14', ground: 'early', by: 'client' })).toMatchObject({ cents: 1641, partial: ['14/29'] }); // 1641.38
    // .5 rounds up: 100 × 15/30 = 50 exactly; 1 cent × 15/30 = 0.5 → 1.
    expect(terminationFee({ ...base, lastBilledThrough: '2027-10-31', minimumTermEnd: '2027-11-15', monthlyCents: 1, ground: 'early', by: 'client' })).toMatchObject({ cents: 1, partial: ['15/30'] });
    expect(terminationFee({ ...base, monthlyCents: 0, ground: 'early', by: 'client' })).toBeNull();
  });
});
