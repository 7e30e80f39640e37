import { describe, expect, it } from 'vitest';
import { reportMismatches } from './scenarios.ts';

describe('report comparison (as compare.mjs)', () => {
  it('ignores extra keys and names each mismatch', () => {
    expect(reportMismatches({ a: 1, b: { c: 'x' } }, { a: 1, b: { c: 'x', d: 2 }, e: 3 })).toEqual([]);
    expect(reportMismatches({ a: 1, b: { c: 'x' } }, { a: 2, b: { c: 'y' } })).toEqual(['$.a: expected 1, got 2', '$.b.c: expected "x", got "y"']);
  });
  it('matches arrays element by element, and `key?` arrays anywhere', () => {
    expect(reportMismatches({ l: [{ t: 1 }] }, { l: [{ t: 1 }, { t: 2 }] })).toEqual(['$.l: expected 1 items, got 2']);
    expect(reportMismatches({ 'l?': [{ t: 2 }] }, { l: [{ t: 1 }, { t: 2, u: 0 }] })).toEqual([]);
    expect(reportMismatches({ 'l?': [{ t: 3 }] }, { l: [{ t: 1 }] })).toEqual(['$.l: nothing matches {"t":3}']);
    expect(reportMismatches({ l: null }, { l: [] })).toEqual(['$.l: expected null, got []']);
  });
});
