import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideUserReduction, quarterStartInstant, userFloor } from './quarter-floor.ts';

describe('§8.5 quarterly reduction floor', () => {
  it('boundaries: N0=10 → 9, N0=9 → 9, N0=20 → 18, small counts', () => {
    expect(userFloor(10)).toBe(9);
    expect(userFloor(9)).toBe(9); // 10 % of 9 floors to 0
    expect(userFloor(20)).toBe(18);
    expect(userFloor(19)).toBe(18);
    expect(userFloor(0)).toBe(0);
    expect(userFloor(1)).toBe(1);
    expect(userFloor(100)).toBe(90);
  });

  it('refuses one user below the floor with clause 8.5, accepts the floor itself', () => {
    expect(decideUserReduction({ usersAtQuarterStart: 10, currentUsers: 10, removing: 1 })).toMatchObject({ allowed: true, floor: 9, after: 9 });
    expect(decideUserReduction({ usersAtQuarterStart: 10, currentUsers: 10, removing: 2 })).toMatchObject({
      allowed: false,
      code: 'USER_REDUCTION_LIMIT',
      clause: '8.5',
      floor: 9,
    });
    expect(decideUserReduction({ usersAtQuarterStart: 9, currentUsers: 9, removing: 1 }).allowed).toBe(false);
  });

  it('users added during the quarter can be removed again', () => {
    // N0 = 10, 5 added mid-quarter: down to 9 is allowed.
    expect(decideUserReduction({ usersAtQuarterStart: 10, currentUsers: 15, removing: 6 }).allowed).toBe(true);
    expect(decideUserReduction({ usersAtQuarterStart: 10, currentUsers: 15, removing: 7 }).allowed).toBe(false);
    expect(decideUserReduction({ usersAtQuarterStart: 0, currentUsers: 3, removing: 3 }).allowed).toBe(true);
  });

  it('property: the floor keeps at least 90 % and removes at most 10 %', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (n0) => {
        const f = userFloor(n0);
        expect(f).toBeLessThanOrEqual(n0);
        expect(n0 - f).toBe(Math.floor(n0 / 10));
        expect(10 * f).toBeGreaterThanOrEqual(9 * n0);
      }),
    );
  });

  it('property: allowed exactly when the count after the deletion is at or above the floor', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 500 }), (n0, current, removing) => {
        const d = decideUserReduction({ usersAtQuarterStart: n0, currentUsers: current, removing });
        expect(d.allowed).toBe(current - removing >= userFloor(n0));
        expect(d.after).toBe(current - removing);
      }),
    );
  });

  it('property: the floor is monotone in N0', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), (n0) => userFloor(n0 + 1) >= userFloor(n0)));
  });

  it('rejects nonsense counts', () => {
    expect(() => userFloor(-1)).toThrow(RangeError);
    expect(() => userFloor(1.5)).toThrow(RangeError);
  });

  it('quarter start is 00:00 Brussels on 1 Jan / 1 Apr / 1 Jul / 1 Oct', () => {
    expect(quarterStartInstant(new Date('2027-01-01T00:00:00+01:00')).toISOString()).toBe('2026-12-31T23:00:00.000Z');
    expect(quarterStartInstant(new Date('2026-12-31T23:59:59+01:00')).toISOString()).toBe('2026-09-30T22:00:00.000Z');
    expect(quarterStartInstant(new Date('2027-03-31T23:59:59+02:00')).toISOString()).toBe('2026-12-31T23:00:00.000Z');
    expect(quarterStartInstant(new Date('2027-04-01T00:00:00+02:00')).toISOString()).toBe('2027-03-31T22:00:00.000Z');
    expect(quarterStartInstant(new Date('2027-06-30T12:00:00+02:00')).toISOString()).toBe('2027-03-31T22:00:00.000Z');
    expect(quarterStartInstant(new Date('2027-07-01T00:00:00+02:00')).toISOString()).toBe('2027-06-30T22:00:00.000Z');
    // 23:30 UTC on 31 March is already 1 April in Brussels
    expect(quarterStartInstant(new Date('2027-03-31T23:30:00Z')).toISOString()).toBe('2027-03-31T22:00:00.000Z');
  });
});
