/**
 * Timer scheduling for the transaction layer, injectable so that tests (and the
 * scenario runner) drive time: `systemTimers` in production, `ManualTimers`
 * when time must only move on request.
 */

export type CancelTimer = () => void;

export interface Timers {
  /** Runs `fn` after `ms` milliseconds, unless cancelled. */
  schedule(ms: number, fn: () => void): CancelTimer;
  /** The time in ms on the clock these timers run on (any origin, never stepping back). */
  clock(): number;
}

export const systemTimers: Timers = {
  schedule(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
  clock: () => performance.now(),
};

/** A timer of a `TimerWheel`: `fn` is dropped when it fires or is cancelled. */
interface WheelEntry {
  fn: (() => void) | undefined;
}

/**
 * Coarse timers over `base`: the timers due within the same `tickMs` share one timer of
 * `base`, and each fires at its time or up to `tickMs` later (RFC 3261 §17 asks no finer:
 * its shortest timer is T1, 500 ms). At hundreds of calls/s a node runs ~10 transaction
 * timers per call, most of them cancelled before they fire (A/B/E/F) or lingering 32 s
 * (D/J/L/M); one `setTimeout` each cost a Timeout object, a cancel closure and Node's timer
 * list bookkeeping per timer (issue #4). `now` is the clock `base` runs on: monotonic by
 * default, so that a step of the wall clock cannot put a timer in another tick's slot.
 */
export class TimerWheel implements Timers {
  private readonly slots = new Map<number, WheelEntry[]>();

  constructor(
    private readonly base: Timers = systemTimers,
    private readonly now: () => number = () => performance.now(),
    private readonly tickMs = 10,
  ) {}

  clock(): number {
    return this.now();
  }

  /** Ticks with a timer of `base` pending. */
  get slotCount(): number {
    return this.slots.size;
  }

  schedule(ms: number, fn: () => void): CancelTimer {
    const at = this.now();
    const slot = Math.ceil((at + Math.max(0, ms)) / this.tickMs);
    let due = this.slots.get(slot);
    if (due === undefined) {
      due = [];
      this.slots.set(slot, due);
      this.base.schedule(slot * this.tickMs - at, () => this.fire(slot));
    }
    const entry: WheelEntry = { fn };
    due.push(entry);
    return () => {
      entry.fn = undefined;
    };
  }

  private fire(slot: number): void {
    const due = this.slots.get(slot)!;
    this.slots.delete(slot);
    for (const entry of due) {
      const fn = entry.fn;
      if (fn === undefined) continue;
      entry.fn = undefined;
      fn();
    }
  }
}

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Timers that fire only when `advance` moves their clock. */
export class ManualTimers implements Timers {
  private time = 0;
  private seq = 0;
  private pending: Pending[] = [];

  get now(): number {
    return this.time;
  }

  clock(): number {
    return this.time;
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get size(): number {
    return this.pending.length;
  }

  schedule(ms: number, fn: () => void): CancelTimer {
    const entry = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((p) => p !== entry);
    };
  }

  /** Moves time forward, firing due timers in order (including ones they schedule). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = target;
  }
}
