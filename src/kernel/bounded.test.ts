import { describe, expect, it } from 'vitest';
import { evictionBatch, forgetOldest } from './bounded.ts';

describe('forgetOldest', () => {
  it('drops the first entries in insertion order, no more than asked, and copes with fewer', () => {
    const m = new Map([['a', 1], ['b', 2], ['c', 3]]);
    m.set('a', 4); // updating keeps its place
    forgetOldest(m, 2);
    expect([...m.keys()]).toEqual(['c']);
    forgetOldest(m, 5);
    expect(m.size).toBe(0);
    forgetOldest(m, 0);
    expect(m.size).toBe(0);
  });

  it('forgets a tenth of the bound at once, at least one', () => {
    expect([evictionBatch(100_000), evictionBatch(25), evictionBatch(2), evictionBatch(0)]).toEqual([10_000, 2, 1, 1]);
  });
});
