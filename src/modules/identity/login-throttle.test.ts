import { describe, expect, it } from 'vitest';
import { accountLockedUntil, ipRefusedUntil } from './login-throttle.ts';

const t0 = new Date('2027-03-01T09:00:00Z').getTime();
const at = (min: number) => new Date(t0 + min * 60_000);
const newestFirst = (mins: number[]) => mins.map(at).sort((a, b) => b.getTime() - a.getTime());

describe('login throttle rules', () => {
  it('locks an account 15 min after the 5th failure within 15 min', () => {
    const f = newestFirst([0, 1, 2, 3, 4]);
    expect(accountLockedUntil(f, at(4))).toEqual(at(19));
    expect(accountLockedUntil(f, at(18.9))).toEqual(at(19));
    expect(accountLockedUntil(f, at(19))).toBeNull();
  });
  it('4 failures, or 5 spread over more than 15 min, do not lock', () => {
    expect(accountLockedUntil(newestFirst([0, 1, 2, 3]), at(4))).toBeNull();
    expect(accountLockedUntil(newestFirst([0, 4, 8, 12, 16]), at(16))).toBeNull();
    expect(accountLockedUntil(newestFirst([0, 4, 8, 12, 15]), at(15))).toEqual(at(30));
  });
  it('refuses an IP with 20 failures in the window until the oldest leaves it', () => {
    const mins = Array.from({ length: 20 }, (_, i) => i * 0.5);
    const f = newestFirst(mins);
    expect(ipRefusedUntil(f, at(10))).toEqual(at(15));
    expect(ipRefusedUntil(f.slice(0, 19), at(10))).toBeNull();
  });
});
