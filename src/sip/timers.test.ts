import { describe, expect, it } from 'vitest';
import { ManualTimers, TimerWheel } from './timers.ts';

describe('ManualTimers', () => {
  it('fires due timers in order, including ones scheduled while firing, and honours cancel', () => {
    const t = new ManualTimers();
    const fired: string[] = [];
    t.schedule(100, () => {
      fired.push('a@100');
      t.schedule(50, () => fired.push(`c@${t.now}`));
    });
    const cancel = t.schedule(120, () => fired.push('b'));
    t.schedule(100, () => fired.push('d@100'));
    cancel();
    t.advance(149);
    expect(fired).toEqual(['a@100', 'd@100']);
    t.advance(1);
    expect(fired).toEqual(['a@100', 'd@100', 'c@150']);
    expect(t.size).toBe(0);
  });
});

describe('TimerWheel', () => {
  const wheel = () => {
    const base = new ManualTimers();
    return { base, wheel: new TimerWheel(base, () => base.now, 10) };
  };

  it('fires each timer at its time or up to one tick later, never earlier, in order of ticks', () => {
    const { base, wheel: w } = wheel();
    const fired: string[] = [];
    base.advance(3); // not on a tick boundary
    w.schedule(500, () => fired.push(`a@${base.now}`)); // due 503: fires at 510
    w.schedule(507, () => fired.push(`b@${base.now}`)); // due 510: fires at 510
    w.schedule(0, () => fired.push(`c@${base.now}`)); // due 3: fires at 10
    base.advance(6);
    expect(fired).toEqual([]);
    base.advance(1);
    expect(fired).toEqual(['c@10']);
    base.advance(499);
    expect(fired).toEqual(['c@10']);
    base.advance(1);
    expect(fired).toEqual(['c@10', 'a@510', 'b@510']);
    expect([w.slotCount, base.size]).toEqual([0, 0]);
  });

  it('shares one timer of its base between the timers of a tick, honours cancel, and takes timers scheduled while firing', () => {
    const { base, wheel: w } = wheel();
    const fired: string[] = [];
    const cancels = Array.from({ length: 100 }, (_, i) => w.schedule(32_001 + (i % 10), () => fired.push(`t${i}`))); // due 32 001–32 010: one tick
    expect([w.slotCount, base.size]).toEqual([1, 1]);
    cancels.forEach((cancel, i) => i % 2 === 1 && cancel());
    w.schedule(31_995, () => w.schedule(0, () => fired.push(`late@${base.now}`))); // tick 32 000, then again
    base.advance(32_000);
    expect(fired).toEqual(['late@32000']);
    base.advance(10);
    expect(fired).toHaveLength(51);
    expect(fired.slice(1).every((f) => /^t\d*[02468]$/.test(f))).toBe(true);
    expect([w.slotCount, base.size]).toEqual([0, 0]);
  });

  it('lets a tick go, its timer of the base cancelled, once all its timers are cancelled (a call’s 4 h limit, issue #4)', () => {
    const { base, wheel: w } = wheel();
    const fired: string[] = [];
    const long = [w.schedule(14_399_995, () => fired.push('max a')), w.schedule(14_400_000, () => fired.push('max b'))]; // one tick
    const kept = w.schedule(180_000, () => fired.push(`ring@${base.now}`));
    expect([w.slotCount, base.size]).toEqual([2, 2]);
    long[0]!();
    expect([w.slotCount, base.size]).toEqual([2, 2]); // one timer of that tick still runs
    long[1]!();
    long[1]!(); // twice: no effect
    expect([w.slotCount, base.size]).toEqual([1, 1]);
    const again = w.schedule(14_400_000, () => fired.push('max c')); // the same tick, anew
    expect([w.slotCount, base.size]).toEqual([2, 2]);
    base.advance(14_400_010);
    expect(fired).toEqual(['ring@180000', 'max c']);
    again(); // after it fired: no effect
    kept();
    expect([w.slotCount, base.size]).toEqual([0, 0]);
  });
});
