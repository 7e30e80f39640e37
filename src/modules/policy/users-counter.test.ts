import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { usersCounter, type CachedUser } from './facts-cache.ts';

const linear = (users: readonly CachedUser[], t: number): number =>
  users.filter((x) => x.createdMs <= t && (x.deletedMs === null || x.deletedMs > t)).length;

describe('usersCounter (§4.3b users current at an instant)', () => {
  const users: CachedUser[] = [
    { extension: '201', createdMs: 1000, deletedMs: null },
    { extension: '202', createdMs: 1000, deletedMs: 2000 },
    { extension: '203', createdMs: 1500, deletedMs: 1500 },
  ];
  const at = usersCounter(users);

  it('counts a user from its creation instant and no longer at its deletion instant', () => {
    expect(at(new Date(999))).toBe(0);
    expect(at(new Date(1000))).toBe(2);
    expect(at(new Date(1500))).toBe(2); // 203 created and deleted at the same instant: never current
    expect(at(new Date(1999))).toBe(2);
    expect(at(new Date(2000))).toBe(1);
  });

  it('no users: zero', () => {
    expect(usersCounter([])(new Date(0))).toBe(0);
  });

  it('equals the definition (created ≤ t < deleted) for any users and instant', () => {
    const user = fc
      .tuple(fc.integer({ min: 0, max: 50 }), fc.option(fc.integer({ min: 0, max: 50 })))
      .map(([c, d]): CachedUser => ({ extension: 'x', createdMs: c, deletedMs: d === null ? null : c + d }));
    fc.assert(
      fc.property(fc.array(user, { maxLength: 40 }), fc.integer({ min: -1, max: 102 }), (list, t) => {
        expect(usersCounter(list)(new Date(t))).toBe(linear(list, t));
      }),
    );
  });
});
