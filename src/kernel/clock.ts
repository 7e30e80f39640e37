/**
 * Every time-dependent rule reads an injected clock, never `Date.now()` directly,
 * so that the scenario runner and the tests can drive time.
 */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to (scenario runner, tests). */
export class SimulatedClock implements Clock {
  private current: number;

  constructor(start: Date | string | number) {
    this.current = new Date(start).getTime();
    if (Number.isNaN(this.current)) throw new RangeError(`invalid start instant: ${String(start)}`);
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Moves the clock to `to`; time never goes backwards. */
  set(to: Date): void {
    const t = to.getTime();
    if (t < this.current) throw new RangeError(`the clock cannot go back from ${this.now().toISOString()} to ${to.toISOString()}`);
    this.current = t;
  }

  advance(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0) throw new RangeError('advance takes a non-negative integer of milliseconds');
    this.current += ms;
  }
}
