import { describe, expect, it } from 'vitest';
import { callSpendMicros, defaultMaxConcurrent, spendMicros } from './limits.ts';

const now = new Date('2027-03-01T10:00:00Z');
const ago = (s: number): Date => new Date(now.getTime() - s * 1000);

describe('§4.3b defaults', () => {
  it('concurrent outbound calls: max(4, 2 × users)', () => {
    expect([0, 1, 2, 3, 10].map(defaultMaxConcurrent)).toEqual([4, 4, 4, 6, 20]);
  });
});

describe('§4.10 spend in the sliding hour (µ€, integers)', () => {
  const hourAgo = ago(3600);
  it('counts answered seconds inside the window at the per-minute rate, rounded up to the µ€', () => {
    // 1000 s at 3 €/min = 50 € exactly
    expect(callSpendMicros({ answeredAt: ago(1000), endedAt: null, perMinuteMicros: 3_000_000 }, hourAgo, now)).toBe(50_000_000);
    // 1 s at 1 µ€/min = 1/60 µ€ → 1 µ€
    expect(callSpendMicros({ answeredAt: ago(1), endedAt: now, perMinuteMicros: 1 }, hourAgo, now)).toBe(1);
    // 50 € + 1 µ€ across two calls
    expect(
      spendMicros(
        [
          { answeredAt: ago(1000), endedAt: null, perMinuteMicros: 3_000_000 },
          { answeredAt: ago(2), endedAt: ago(1), perMinuteMicros: 60 },
        ],
        hourAgo,
        now,
      ),
    ).toBe(50_000_001);
  });
  it('unanswered calls spend nothing; only the part inside the window counts; a partial second counts whole', () => {
    expect(callSpendMicros({ answeredAt: null, endedAt: null, perMinuteMicros: 3_000_000 }, hourAgo, now)).toBe(0);
    expect(callSpendMicros({ answeredAt: ago(7200), endedAt: ago(3000), perMinuteMicros: 60_000 }, hourAgo, now)).toBe(600 * 1000);
    expect(callSpendMicros({ answeredAt: ago(7200), endedAt: ago(3601), perMinuteMicros: 60_000 }, hourAgo, now)).toBe(0);
    expect(callSpendMicros({ answeredAt: new Date(now.getTime() - 1500), endedAt: null, perMinuteMicros: 60 }, hourAgo, now)).toBe(2);
  });
});
