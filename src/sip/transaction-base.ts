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
  /** Called once for each transaction, when it reaches Terminated (before its delegate hears it). */
  terminated(tx: TransactionBase<string>): void;
}

export abstract class TransactionBase<State extends string> {
  abstract state: State | 'terminated';
  /*
   * The running timers, by name, in two slots: no transaction of §17 runs more than two at
   * once (a retransmission timer A/E/G beside its timeout B/F/H; then one of D/I/J/K/L/M).
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

  /** Waits `ms` in the current state then terminates; at once when `ms` is 0 (reliable transports). */
  protected terminateAfter(name: string, ms: number): void {
    if (ms === 0) this.terminate();
    else this.startTimer(name, ms, () => this.terminate());
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
