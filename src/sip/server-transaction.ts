/**
 * Server transactions (RFC 3261 §17.2, with the Accepted state of RFC 6026):
 * INVITE (Proceeding → Completed → Confirmed | Accepted) and non-INVITE
 * (Trying → Proceeding → Completed). The transaction user answers with `respond`.
 */
import { buildResponse } from './builders.ts';
import type { SipRequest, SipResponse } from './message.ts';
import { serializeMessage } from './serializer.ts';
import { TransactionBase, type TransactionContext } from './transaction-base.ts';
import type { Endpoint, Transport } from './transport.ts';

export interface ServerTransactionDelegate {
  /** Timer H fired: the ACK for a 3xx–6xx response never came. */
  onTimeout?(): void;
  onTransportError?(error: Error): void;
  /** The transaction reached Terminated. */
  onTerminated?(): void;
}

export type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted';
export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed';

/** What the transaction layer does with a request matched to a server transaction. */
export type Absorbed = 'absorbed' | 'pass-to-tu';

export class ServerInviteTransaction extends TransactionBase<ServerInviteState> {
  state: ServerInviteState | 'terminated' = 'proceeding';
  delegate: ServerTransactionDelegate | undefined;
  private last: Uint8Array | undefined;
  /**
   * Dropped once a final response is sent: an answered transaction lingers 32 s
   * (timers H/J/L) and at hundreds of REGISTERs/s the parsed requests were most of
   * the node's memory.
   */
  private req: SipRequest | undefined;

  constructor(ctx: TransactionContext, key: string, transport: Transport, destination: Endpoint, request: SipRequest) {
    super(ctx, key, transport, destination);
    this.req = request;
  }

  /** The request, until the final response: then only the serialized response is kept. */
  get request(): SipRequest {
    if (this.req === undefined) throw new Error('the request of an answered server transaction is no longer kept');
    return this.req;
  }

  /**
   * Sends 100 Trying (§17.2.1: when the TU may not answer within 200 ms) unless the
   * transaction has answered already: the transaction layer calls it `TRYING_DELAY_MS`
   * after the INVITE, so that one answered at once (the 407 challenge, a refusal) or
   * ringing quickly costs no 100.
   */
  start(): void {
    if (this.state === 'proceeding' && this.last === undefined) this.respond(buildResponse(this.request, 100));
  }

  respond(response: SipResponse): void {
    const { status } = response;
    if (this.state === 'accepted' && status >= 200 && status < 300) {
      this.send(serializeMessage(response));
      return;
    }
    if (this.state !== 'proceeding') return;
    this.sendResponse(status, serializeMessage(response, status >= 300)); // a 3xx–6xx is kept for Timer G
  }

  /**
   * `respond` with a 3xx–6xx already written (`responseBytes`: the INVITE's 407 challenge,
   * issue #4); the bytes are kept and resent as they are (Timer G), so they should be an
   * allocation of their own. A 1xx or 2xx goes through `respond`: a 100 copies Timestamp, a
   * 2xx may end in the Accepted state, where the TU resends it.
   */
  respondSerialized(status: number, bytes: Uint8Array): void {
    if (status < 300 || status > 699) throw new RangeError(`respondSerialized takes a 3xx–6xx, not ${status}`);
    if (this.state !== 'proceeding') return;
    this.sendResponse(status, bytes);
  }

  private sendResponse(status: number, bytes: Uint8Array): void {
    this.last = bytes;
    this.send(bytes);
    if (status < 200) return;
    this.req = undefined;
    if (status < 300) {
      // Accepted: the TU resends its 2xx (§13.3.1.4), the transaction never does.
      this.last = undefined;
      this.state = 'accepted';
      this.terminateAfter(64 * this.ctx.values.t1); // Timer L (RFC 6026)
      return;
    }
    this.state = 'completed';
    if (this.unreliable) this.retransmit(this.ctx.values.t1);
    this.startTimer('H', 64 * this.ctx.values.t1, () => {
      this.delegate?.onTimeout?.();
      this.terminate();
    });
  }

  /** Timer G: resend the final response, doubling up to T2 (§17.2.1). */
  private retransmit(interval: number): void {
    this.startTimer('G', interval, () => {
      if (this.last !== undefined) this.send(this.last);
      this.retransmit(Math.min(2 * interval, this.ctx.values.t2));
    });
  }

  /** An INVITE retransmission or an ACK matched to this transaction. */
  receive(request: SipRequest): Absorbed {
    if (request.method === 'ACK') {
      if (this.state === 'accepted') return 'pass-to-tu';
      if (this.state === 'completed') {
        this.state = 'confirmed';
        this.stopTimer('G');
        this.stopTimer('H');
        this.terminateAfter(this.unreliable ? this.ctx.values.t4 : 0); // Timer I
      }
      return 'absorbed';
    }
    if (this.state === 'proceeding' && this.last === undefined) this.start();
    else if ((this.state === 'proceeding' || this.state === 'completed') && this.last !== undefined) this.send(this.last);
    return 'absorbed';
  }

  /**
   * RFC 3261 §8.2.7: a final failure sent once and forgotten (a challenge, `statelessTag` as its To
   * tag) — no retransmission of it, no ACK awaited, no 32 s of state: a retransmission of the
   * request is a new request and gets the same answer anew; the ACK reaches the TU, which finds
   * no dialog of those tags and ignores it. Once a 100 Trying went out the transaction is no
   * longer stateless: then it is the stateful `respondSerialized`.
   */
  respondStatelessly(status: number, bytes: Uint8Array): void {
    if (status < 300) throw new RangeError(`a ${status} is never sent statelessly`);
    if (this.state !== 'proceeding' || this.last !== undefined) {
      this.respondSerialized(status, bytes);
      return;
    }
    this.send(bytes);
    this.terminate();
  }

  protected transportError(error: Error): void {
    this.delegate?.onTransportError?.(error);
    this.terminate();
  }

  protected terminated(): void {
    this.delegate?.onTerminated?.();
  }
}

export class ServerNonInviteTransaction extends TransactionBase<ServerNonInviteState> {
  state: ServerNonInviteState | 'terminated' = 'trying';
  delegate: ServerTransactionDelegate | undefined;
  private last: Uint8Array | undefined;
  /**
   * Dropped once a final response is sent: an answered transaction lingers 32 s
   * (timers H/J/L) and at hundreds of REGISTERs/s the parsed requests were most of
   * the node's memory.
   */
  private req: SipRequest | undefined;

  constructor(ctx: TransactionContext, key: string, transport: Transport, destination: Endpoint, request: SipRequest) {
    super(ctx, key, transport, destination);
    this.req = request;
  }

  /** The request, until the final response: then only the serialized response is kept. */
  get request(): SipRequest {
    if (this.req === undefined) throw new Error('the request of an answered server transaction is no longer kept');
    return this.req;
  }

  respond(response: SipResponse): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.respondSerialized(response.status, serializeMessage(response, response.status >= 200)); // a final response is kept 32 s (Timer J)
  }

  /**
   * `respond` with the response already written (`responseBytes`: the REGISTER's 401 and 200,
   * issue #4); the bytes are kept and resent as they are, so a final response's should be an
   * allocation of their own.
   */
  respondSerialized(status: number, bytes: Uint8Array): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.last = bytes;
    this.send(this.last);
    if (status < 200) {
      this.state = 'proceeding';
      return;
    }
    this.req = undefined;
    this.state = 'completed';
    this.terminateAfter(this.unreliable ? 64 * this.ctx.values.t1 : 0); // Timer J
  }

  /** A retransmission of the request: resend the last response, if any (§17.2.2). */
  receive(): Absorbed {
    if (this.last !== undefined && this.state !== 'terminated') this.send(this.last);
    return 'absorbed';
  }

  protected transportError(error: Error): void {
    this.delegate?.onTransportError?.(error);
    this.terminate();
  }

  /** RFC 3261 §8.2.7: a final failure sent once and forgotten (see `ServerInviteTransaction.respondStatelessly`). */
  respondStatelessly(status: number, bytes: Uint8Array): void {
    if (status < 300) throw new RangeError(`a ${status} is never sent statelessly`);
    if (this.state !== 'trying') {
      this.respondSerialized(status, bytes);
      return;
    }
    this.send(bytes);
    this.terminate();
  }

  protected terminated(): void {
    this.delegate?.onTerminated?.();
  }
}

export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;
