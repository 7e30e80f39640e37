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

/** The timers of one tick of a `TimerWheel`: `live` of its `entries` neither fired nor cancelled. */
interface WheelSlot {
  readonly tick: number;
  readonly entries: WheelEntry[];
  live: number;
  /** Cancels the timer of the base that fires this tick. */
  cancel: CancelTimer | undefined;
}

/** A timer of a `TimerWheel`: `fn` is dropped when it fires or is cancelled. */
interface WheelEntry {
  fn: (() => void) | undefined;
  readonly slot: WheelSlot;
}

/**
 * Coarse timers over `base`: the timers due within the same `tickMs` share one timer of
 * `base`, and each fires at its time or up to `tickMs` later (RFC 3261 §17 asks no finer:
 * its shortest timer is T1, 500 ms). At hundreds of calls/s a node runs ~10 transaction
 * timers per call, most of them cancelled before they fire (A/B/E/F) or lingering 32 s
 * (D/J/L/M); one `setTimeout` each cost a Timeout object, a cancel closure and Node's timer
 * list bookkeeping per timer (issue #4). `now` is the clock `base` runs on: monotonic by
 * default, so that a step of the wall clock cannot put a timer in another tick's slot.
 * A tick whose timers were all cancelled is let go at once, its timer of `base` cancelled:
 * otherwise every answered call's ring timeout (180 s) and maximum duration (4 h) kept a
 * tick — its `setTimeout`, its array, its entries — until the time it would have fired
 * (at 100 calls/s, ≈ 1.4 million entries held for the 4 hours).
 */
export class TimerWheel implements Timers {
  private readonly slots = new Map<number, WheelSlot>();

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
    const tick = Math.ceil((at + Math.max(0, ms)) / this.tickMs);
    let slot = this.slots.get(tick);
    if (slot === undefined) {
      slot = { tick, entries: [], live: 0, cancel: undefined };
      this.slots.set(tick, slot);
      const due = slot;
      slot.cancel = this.base.schedule(tick * this.tickMs - at, () => this.fire(due));
    }
    const entry: WheelEntry = { fn, slot };
    slot.entries.push(entry);
    slot.live += 1;
    return () => this.cancel(entry);
  }

  private cancel(entry: WheelEntry): void {
    if (entry.fn === undefined) return;
    entry.fn = undefined;
    const slot = entry.slot;
    slot.live -= 1;
    if (slot.live > 0 || this.slots.get(slot.tick) !== slot) return;
    this.slots.delete(slot.tick);
    slot.cancel?.();
  }

  private fire(slot: WheelSlot): void {
    this.slots.delete(slot.tick);
    for (const entry of slot.entries) {
      const fn = entry.fn;
      if (fn === undefined) continue;
      entry.fn = undefined;
      slot.live -= 1;
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
