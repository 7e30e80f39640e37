import { describe, expect, it } from 'vitest';
import { ManualTimers } from './timers.ts';

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
