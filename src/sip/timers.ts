/**
 * Timer scheduling for the transaction layer, injectable so that tests (and the
 * scenario runner) drive time: `systemTimers` in production, `ManualTimers`
 * when time must only move on request.
 */

export type CancelTimer = () => void;

export interface Timers {
  /** Runs `fn` after `ms` milliseconds, unless cancelled. */
  schedule(ms: number, fn: () => void): CancelTimer;
}

export const systemTimers: Timers = {
  schedule(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Timers that fire only when `advance` moves their clock. */
export class ManualTimers implements Timers {
  private clock = 0;
  private seq = 0;
  private pending: Pending[] = [];

  get now(): number {
    return this.clock;
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get size(): number {
    return this.pending.length;
  }

  schedule(ms: number, fn: () => void): CancelTimer {
    const entry = { at: this.clock + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((p) => p !== entry);
    };
  }

  /** Moves time forward, firing due timers in order (including ones they schedule). */
  advance(ms: number): void {
    const target = this.clock + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.clock = due.at;
      due.fn();
    }
    this.clock = target;
  }
}
