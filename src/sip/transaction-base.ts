/**
 * What every transaction state machine shares: RFC 3261 timer values, named
 * timers, sending (and resending) serialised messages, termination.
 */
import type { CancelTimer, Timers } from './timers.ts';
import { type Endpoint, type SendDone, type Transport, postOn } from './transport.ts';

export interface TimerValues {
  /** RTT estimate, 500 ms by default. */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s by default. */
  readonly t2: number;
  /** Maximum time a message stays in the network, 5 s by default. */
  readonly t4: number;
}

export const DEFAULT_TIMER_VALUES: TimerValues = { t1: 500, t2: 4000, t4: 5000 };

/**
 * What the transactions of one transaction layer share (one object per layer and side, not
 * one per transaction: a transaction lingers up to 32 s after its answer, issue #4).
 */
export interface TransactionContext {
  readonly timers: Timers;
  readonly values: TimerValues;
  /** Where the transactions wait out their last timer. */
  readonly lingering: Lingering;
  /** Called once for each transaction, when it reaches Terminated (before its delegate hears it). */
  terminated(tx: TransactionBase<string>): void;
}

export abstract class TransactionBase<State extends string> {
  abstract state: State | 'terminated';
  /*
   * The running timers, by name, in two slots: no transaction of §17 runs more than two at
   * once (a retransmission timer A/E/G beside its timeout B/F/H). The last timer (D, I, J, K,
   * L or M) takes no slot: the transaction waits it out in `Lingering`.
   * Fields rather than a Map: a transaction lingers up to 32 s after its answer and a Map per
   * transaction was ~250 bytes of the heap each call keeps that long (issue #4).
   */
  private firstName: string | undefined;
  private firstCancel: CancelTimer | undefined;
  private secondName: string | undefined;
  private secondCancel: CancelTimer | undefined;

  /** Hears the outcome of this transaction's sends (made once, on its first send). */
  private sent: SendDone | undefined;

  protected constructor(
    protected readonly ctx: TransactionContext,
    /** The key under which the transaction layer matches messages to this transaction. */
    readonly key: string,
    protected readonly transport: Transport,
    /** Where this transaction's messages go (next hop, or where responses are due). */
    protected readonly destination: Endpoint,
  ) {}

  /** True on transports that do not retransmit by themselves (UDP). */
  protected get unreliable(): boolean {
    return !this.transport.reliable;
  }

  protected startTimer(name: string, ms: number, fire: () => void): void {
    this.stopTimer(name);
    const cancel = this.ctx.timers.schedule(ms, () => {
      this.forget(name);
      if (this.state !== 'terminated') fire();
    });
    if (this.firstName === undefined) {
      this.firstName = name;
      this.firstCancel = cancel;
    } else if (this.secondName === undefined) {
      this.secondName = name;
      this.secondCancel = cancel;
    } else {
      cancel();
      throw new Error(`timer ${name} started while ${this.firstName} and ${this.secondName} run`);
    }
  }

  protected stopTimer(name: string): void {
    if (this.firstName === name) this.firstCancel!();
    else if (this.secondName === name) this.secondCancel!();
    else return;
    this.forget(name);
  }

  /** Frees the slot of a timer that fired or was cancelled. */
  private forget(name: string): void {
    if (this.firstName === name) {
      this.firstName = undefined;
      this.firstCancel = undefined;
    } else if (this.secondName === name) {
      this.secondName = undefined;
      this.secondCancel = undefined;
    }
  }

  /**
   * Waits `ms` in the current state then terminates (the last timer: D, I, J, K, L or M); at once
   * when `ms` is 0 (reliable transports).
   */
  protected terminateAfter(ms: number): void {
    if (ms === 0) this.terminate();
    else {
      // Made again by the next send, if any: a lingering transaction seldom sends.
      this.sent = undefined;
      this.ctx.lingering.add(this, ms);
    }
  }

  /** Its last timer ran out (`Lingering`), or it is let go before (`Lingering.shed`). */
  expire(): void {
    this.terminate();
  }

  /** Sends without a promise per datagram (`postOn`); a transport error reaches `transportError` later, never from within. */
  protected send(bytes: Uint8Array): void {
    this.sent ??= (e) => {
      if (e !== null && this.state !== 'terminated') this.transportError(e);
    };
    postOn(this.transport, bytes, this.destination, this.sent);
  }

  /** RFC 3261 §17.1.4 / §17.2.4: a transport error ends the transaction. */
  protected abstract transportError(error: Error): void;

  protected terminate(): void {
    if (this.state === 'terminated') return;
    if (this.firstName !== undefined) this.stopTimer(this.firstName);
    if (this.secondName !== undefined) this.stopTimer(this.secondName);
    this.state = 'terminated';
    this.ctx.terminated(this);
    this.terminated();
  }

  /** Tells the transaction user that the transaction reached Terminated. */
  protected abstract terminated(): void;
}

/** The state of one duration's queue: transactions and their due times, oldest first from `head`. */
class LingerQueue {
  txs: TransactionBase<string>[] = [];
  dues: number[] = [];
  head = 0;
  armed = false;

  constructor(readonly ms: number) {}

  get size(): number {
    return this.txs.length - this.head;
  }

  /** The oldest transaction, taken out of the queue. */
  take(): TransactionBase<string> {
    const tx = this.txs[this.head]!;
    this.head += 1;
    if (this.head === this.txs.length) {
      this.txs = [];
      this.dues = [];
      this.head = 0;
    } else if (this.head >= 1024 && 2 * this.head >= this.txs.length) {
      this.txs = this.txs.slice(this.head);
      this.dues = this.dues.slice(this.head);
      this.head = 0;
    }
    return tx;
  }
}

/**
 * The transactions waiting out their last timer (D, I, J, K, L, M: up to 32 s over UDP, only to
 * absorb retransmissions, issue #4). All those of one duration end in the order they began to
 * wait, so each duration has a first-in first-out queue and one timer, for its oldest: a
 * lingering transaction costs two slots of an array, not a timer of its own (its closures, its
 * wheel entry and its cancel function: ≈ 450 bytes, kept 32 s, two or three per call).
 * A transaction that ends before (a transport error) stays in its queue until its time, then
 * is skipped. `shed` lets the oldest go at once.
 */
export class Lingering {
  private readonly queues = new Map<number, LingerQueue>();

  constructor(private readonly timers: Timers) {}

  add(tx: TransactionBase<string>, ms: number): void {
    let q = this.queues.get(ms);
    if (q === undefined) {
      q = new LingerQueue(ms);
      this.queues.set(ms, q);
    }
    q.txs.push(tx);
    q.dues.push(this.timers.clock() + ms);
    if (!q.armed) this.arm(q);
  }

  /** Ends the oldest waiting transactions, one at a time while `more()` says so. */
  shed(more: () => boolean): void {
    while (more()) {
      let oldest: LingerQueue | undefined;
      for (const q of this.queues.values()) {
        if (q.size > 0 && (oldest === undefined || q.dues[q.head]! - q.ms < oldest.dues[oldest.head]! - oldest.ms)) oldest = q;
      }
      if (oldest === undefined) return;
      oldest.take().expire();
    }
  }

  private arm(q: LingerQueue): void {
    q.armed = true;
    this.timers.schedule(Math.max(0, q.dues[q.head]! - this.timers.clock()), () => this.fire(q));
  }

  private fire(q: LingerQueue): void {
    q.armed = false;
    const now = this.timers.clock();
    while (q.size > 0 && q.dues[q.head]! <= now) q.take().expire();
    if (q.size > 0) this.arm(q);
  }
}
