/**
 * Client transactions (RFC 3261 §17.1, with the Accepted state of RFC 6026):
 * INVITE (Calling → Proceeding → Completed | Accepted) and non-INVITE
 * (Trying → Proceeding → Completed). Retransmissions only on unreliable transports.
 */
import { buildAckForNon2xx } from './builders.ts';
import type { SipRequest, SipResponse } from './message.ts';
import { serializeMessage } from './serializer.ts';
import { TransactionBase, type TransactionContext } from './transaction-base.ts';

export interface ClientTransactionDelegate {
  /** Every response the transaction passes up (provisionals, finals, 2xx retransmissions in Accepted). */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired: no final response came. */
  onTimeout?(): void;
  onTransportError?(error: Error): void;
  /** The transaction reached Terminated (after its last timer). */
  onTerminated?(): void;
}

export type ClientInviteState = 'calling' | 'proceeding' | 'completed' | 'accepted';
export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed';

export class ClientInviteTransaction extends TransactionBase<ClientInviteState> {
  state: ClientInviteState | 'terminated' = 'calling';
  private readonly bytes: Uint8Array;
  private ack: Uint8Array | undefined;

  constructor(
    ctx: TransactionContext,
    key: string,
    readonly request: SipRequest,
    private readonly delegate: ClientTransactionDelegate,
  ) {
    super(ctx, key);
    this.bytes = serializeMessage(request);
  }

  start(): void {
    this.send(this.bytes);
    if (this.unreliable) this.retransmit(this.ctx.values.t1);
    this.startTimer('B', 64 * this.ctx.values.t1, () => {
      this.delegate.onTimeout?.();
      this.terminate();
    });
  }

  /** Timer A: resend the INVITE, doubling the interval (§17.1.1.2). */
  private retransmit(interval: number): void {
    this.startTimer('A', interval, () => {
      this.send(this.bytes);
      this.retransmit(interval * 2);
    });
  }

  receive(response: SipResponse): void {
    const { status } = response;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        this.stopTimer('A');
        this.stopTimer('B');
        if (status < 200) {
          this.state = 'proceeding';
          this.delegate.onResponse(response);
        } else if (status < 300) {
          this.state = 'accepted';
          this.delegate.onResponse(response);
          this.terminateAfter('M', 64 * this.ctx.values.t1);
        } else {
          this.state = 'completed';
          this.ack = serializeMessage(buildAckForNon2xx(this.request, response));
          this.send(this.ack);
          this.delegate.onResponse(response);
          this.terminateAfter('D', this.unreliable ? 32_000 : 0);
        }
        return;
      case 'completed':
        if (status >= 300 && this.ack !== undefined) this.send(this.ack);
        return;
      case 'accepted':
        if (status >= 200 && status < 300) this.delegate.onResponse(response);
        return;
      case 'terminated':
        return;
    }
  }

  protected transportError(error: Error): void {
    this.delegate.onTransportError?.(error);
    this.terminate();
  }
}

export class ClientNonInviteTransaction extends TransactionBase<ClientNonInviteState> {
  state: ClientNonInviteState | 'terminated' = 'trying';
  private readonly bytes: Uint8Array;

  constructor(
    ctx: TransactionContext,
    key: string,
    readonly request: SipRequest,
    private readonly delegate: ClientTransactionDelegate,
  ) {
    super(ctx, key);
    this.bytes = serializeMessage(request);
  }

  start(): void {
    this.send(this.bytes);
    if (this.unreliable) this.retransmit(this.ctx.values.t1);
    this.startTimer('F', 64 * this.ctx.values.t1, () => {
      this.delegate.onTimeout?.();
      this.terminate();
    });
  }

  /** Timer E: resend, doubling up to T2 while Trying, every T2 once Proceeding (§17.1.2.2). */
  private retransmit(interval: number): void {
    this.startTimer('E', interval, () => {
      this.send(this.bytes);
      const { t2 } = this.ctx.values;
      this.retransmit(this.state === 'proceeding' ? t2 : Math.min(2 * interval, t2));
    });
  }

  receive(response: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    if (response.status < 200) {
      this.state = 'proceeding';
      this.delegate.onResponse(response);
      return;
    }
    this.state = 'completed';
    this.stopTimer('E');
    this.stopTimer('F');
    this.delegate.onResponse(response);
    this.terminateAfter('K', this.unreliable ? this.ctx.values.t4 : 0);
  }

  protected transportError(error: Error): void {
    this.delegate.onTransportError?.(error);
    this.terminate();
  }
}

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
