import { beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import type * as Ids from './ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const stamp = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

let ids: typeof Ids;
beforeEach(async () => {
  vi.resetModules(); // newId keeps per-process state; every test starts fresh
  ids = await import('./ids.ts');
});

describe('newId', () => {
  it('is a version 7 UUID stamped with the time', () => {
    expect(ids.newId(new Date(0))).toMatch(/^00000000-0000-7/);
    const before = Date.now();
    const id = ids.newId();
    expect(id).toMatch(UUID_V7);
    expect(stamp(id)).toBeGreaterThanOrEqual(before);
    expect(stamp(id)).toBeLessThanOrEqual(Date.now());
    expect(stamp(ids.newId(new Date('2030-01-01T00:00:00Z')))).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });

  it('sorts in creation order, within a millisecond and when the clock steps back', () => {
    const at = new Date('2027-03-01T00:00:00Z');
    const made = Array.from({ length: 10_000 }, (_, i) => ids.newId(i === 5000 ? new Date('2020-01-01T00:00:00Z') : at));
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(made.every((id) => UUID_V7.test(id))).toBe(true);
    expect(stamp(made.at(-1)!) - at.getTime()).toBeLessThanOrEqual(5); // ≥ 2048 ids per millisecond before borrowing
  });

  it('draws fresh random bits for every id, across refills of its random pool', () => {
    // 3 000 ids × 10 random bytes: the 4 KiB pool is refilled seven times; a reused byte run would repeat a tail
    const made = Array.from({ length: 3000 }, (_, i) => ids.newId(new Date(1_800_000_000_000 + 2 * i)));
    const tails = made.map((id) => id.slice(19)); // variant + 62 random bits
    expect(new Set(tails).size).toBe(made.length);
    const starts = made.map((id) => parseInt(id.slice(15, 18), 16)); // the sequence's random start, below 2048
    expect(starts.every((s) => s < 2048)).toBe(true);
    expect(new Set(starts).size).toBeGreaterThan(1000);
  });

  it('refuses instants a UUID v7 cannot hold', () => {
    expect(() => ids.newId(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => ids.newId(new Date(-1))).toThrow(RangeError);
  });

  it('never goes backwards, whatever the instants', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 48 - 2 ** 20 }), { minLength: 2, maxLength: 20 }), (times) => {
        const made = times.map((t) => ids.newId(new Date(t)));
        return made.every((id, i) => UUID_V7.test(id) && stamp(id) >= times[i]! && (i === 0 || made[i - 1]! < id));
      }),
    );
    expect(() => ids.newId(new Date(2 ** 48))).toThrow(RangeError);
  });
});

describe('randomSecret', () => {
  it('draws from the alphabet', () => {
    const s = ids.randomSecret(24);
    expect(s).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(ids.randomSecret(1, 'ab')).toMatch(/^[ab]$/);
    expect(Array.from(ids.randomSecret(10, '😀🎉'))).toHaveLength(10);
    expect(ids.randomSecret(20)).not.toBe(ids.randomSecret(20));
  });

  it.each([
    [0, undefined],
    [-1, undefined],
    [2.5, undefined],
    [10, 'a'],
    [10, 'aab'],
    [10, ''],
  ])('refuses length %j with alphabet %j', (length, alphabet) => {
    expect(() => ids.randomSecret(length, alphabet)).toThrow(RangeError);
  });

  it('has no modulo bias', () => {
    // 200 symbols: plain `byte % 200` would make the first 56 twice as likely as the others
    const alphabet = Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x100 + i)).join('');
    const counts = new Map<string, number>();
    for (const c of ids.randomSecret(200_000, alphabet)) counts.set(c, (counts.get(c) ?? 0) + 1);
    const symbols = Array.from(alphabet);
    const mean = (xs: string[]) => xs.reduce((sum, c) => sum + (counts.get(c) ?? 0), 0) / xs.length;
    expect(counts.size).toBe(200);
    expect(mean(symbols.slice(0, 56)) / mean(symbols.slice(56))).toBeCloseTo(1, 1);
  });

  it('always has the requested length over the alphabet', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.uniqueArray(fc.string({ minLength: 1, maxLength: 1 }), { minLength: 2, maxLength: 90 }), (n, chars) => {
        const s = ids.randomSecret(n, chars.join(''));
        return s.length === n && Array.from(s).every((c) => chars.includes(c));
      }),
    );
  });
});
