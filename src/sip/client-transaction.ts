/**
 * Client transactions (RFC 3261 §17.1, with the Accepted state of RFC 6026):
 * INVITE (Calling → Proceeding → Completed | Accepted) and non-INVITE
 * (Trying → Proceeding → Completed). Retransmissions only on unreliable transports.
 */
import { buildAckForNon2xx } from './builders.ts';
import type { SipRequest, SipResponse } from './message.ts';
import { serializeMessage } from './serializer.ts';
import { TransactionBase, type TransactionContext } from './transaction-base.ts';
import type { Endpoint, Transport } from './transport.ts';

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

/**
 * The request of a client transaction and its bytes, dropped once they can no longer be
 * sent again: an INVITE answered 2xx lingers 32 s in Accepted (Timer M) and at hundreds of
 * calls/s the requests it kept were a large part of the heap (and of the GC's work).
 */
abstract class ClientTransactionBase<State extends string> extends TransactionBase<State> {
  private req: SipRequest | undefined;
  private bytes: Uint8Array | undefined;

  protected constructor(ctx: TransactionContext, key: string, transport: Transport, destination: Endpoint, request: SipRequest) {
    super(ctx, key, transport, destination);
    this.req = request;
    this.bytes = serializeMessage(request);
  }

  /** The request, until the transaction no longer needs it (2xx to an INVITE, final to a non-INVITE). */
  get request(): SipRequest {
    if (this.req === undefined) throw new Error('the request of a finished client transaction is no longer kept');
    return this.req;
  }

  protected release(): void {
    this.req = undefined;
    this.bytes = undefined;
  }

  protected resend(): void {
    if (this.bytes !== undefined) this.send(this.bytes);
  }
}

export class ClientInviteTransaction extends ClientTransactionBase<ClientInviteState> {
  state: ClientInviteState | 'terminated' = 'calling';
  private ack: Uint8Array | undefined;

  constructor(
    ctx: TransactionContext,
    key: string,
    transport: Transport,
    destination: Endpoint,
    request: SipRequest,
    private readonly delegate: ClientTransactionDelegate,
  ) {
    super(ctx, key, transport, destination, request);
  }

  start(): void {
    this.resend();
    if (this.unreliable) this.retransmit(this.ctx.values.t1);
    this.startTimer('B', 64 * this.ctx.values.t1, () => {
      this.delegate.onTimeout?.();
      this.terminate();
    });
  }

  /** Timer A: resend the INVITE, doubling the interval (§17.1.1.2). */
  private retransmit(interval: number): void {
    this.startTimer('A', interval, () => {
      this.resend();
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
          this.release();
          this.delegate.onResponse(response);
          this.terminateAfter(64 * this.ctx.values.t1); // Timer M (RFC 6026)
        } else {
          this.state = 'completed';
          this.ack = serializeMessage(buildAckForNon2xx(this.request, response), true);
          this.release();
          this.send(this.ack);
          this.delegate.onResponse(response);
          this.terminateAfter(this.unreliable ? 32_000 : 0); // Timer D
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

  protected terminated(): void {
    this.delegate.onTerminated?.();
  }
}

export class ClientNonInviteTransaction extends ClientTransactionBase<ClientNonInviteState> {
  state: ClientNonInviteState | 'terminated' = 'trying';

  constructor(
    ctx: TransactionContext,
    key: string,
    transport: Transport,
    destination: Endpoint,
    request: SipRequest,
    private readonly delegate: ClientTransactionDelegate,
  ) {
    super(ctx, key, transport, destination, request);
  }

  start(): void {
    this.resend();
    if (this.unreliable) this.retransmit(this.ctx.values.t1);
    this.startTimer('F', 64 * this.ctx.values.t1, () => {
      this.delegate.onTimeout?.();
      this.terminate();
    });
  }

  /** Timer E: resend, doubling up to T2 while Trying, every T2 once Proceeding (§17.1.2.2). */
  private retransmit(interval: number): void {
    this.startTimer('E', interval, () => {
      this.resend();
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
    this.release();
    this.stopTimer('E');
    this.stopTimer('F');
    this.delegate.onResponse(response);
    this.terminateAfter(this.unreliable ? this.ctx.values.t4 : 0); // Timer K
  }

  protected transportError(error: Error): void {
    this.delegate.onTransportError?.(error);
    this.terminate();
  }

  protected terminated(): void {
    this.delegate.onTerminated?.();
  }
}

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
