/**
 * The transaction layer (RFC 3261 §17): sits on the transports as their
 * delegate, matches responses to client transactions (§17.1.3) and requests to
 * server transactions (§17.2.3, magic-cookie branches and the RFC 2543 rules),
 * and hands new requests to the transaction user (the UA core, the B2BUA).
 */
import { buildResponse, replyToParseError } from './builders.ts';
import {
  ClientInviteTransaction,
  ClientNonInviteTransaction,
  type ClientTransaction,
  type ClientTransactionDelegate,
} from './client-transaction.ts';
import { parseVia } from './headers.ts';
import { MAGIC_COOKIE, type SipMessage, type SipRequest, type SipResponse, fromTag } from './message.ts';
import type { ParseError } from './parser.ts';
import { responseDestination, stampReceived } from './routing.ts';
import { serializeMessage } from './serializer.ts';
import { ServerInviteTransaction, ServerNonInviteTransaction, type ServerTransaction } from './server-transaction.ts';
import { ownCopy, splitList } from './syntax.ts';
import { DEFAULT_TIMER_VALUES, Lingering, type TimerValues, type TransactionBase, type TransactionContext } from './transaction-base.ts';
import { type Timers, systemTimers } from './timers.ts';
import { type Endpoint, type Source, type Transport, type TransportDelegate, postOn } from './transport.ts';
import { formatUri } from './uri.ts';

export interface TransactionUser {
  /**
   * A new request and its server transaction; `transaction` is undefined for an
   * ACK that matched none (the ACK of a 2xx) or matched one in Accepted state.
   */
  onRequest(request: SipRequest, transaction: ServerTransaction | undefined, source: Source): void;
  /** A response that matched no client transaction (e.g. a 2xx retransmitted after it ended). */
  onStrayResponse?(response: SipResponse, source: Source): void;
}

export interface TransactionLayerOptions {
  readonly user: TransactionUser;
  readonly timers?: Timers;
  readonly values?: Partial<TimerValues>;
  /** Answer unparsable requests with 400/505 when they can be answered (true by default). */
  readonly answerParseErrors?: boolean;
  /**
   * Server transactions waiting for the TU's final answer at once; past it new requests get a
   * stateless 503 (10 000 by default). A transaction that has answered and only absorbs
   * retransmissions (Timers J/L/I: 32 s over UDP) does not count: at 160 REGISTERs/s those
   * alone would fill 10 000 and shed load the server can carry. Server transactions of any
   * state are bounded by ten times this limit (memory): past it the oldest lingering ones
   * end early (see `overloaded`), and only if that frees nothing do new requests get the 503.
   */
  readonly maxServerTransactions?: number;
}

/** The longest a new INVITE waits for its 100 Trying when the TU has not answered it (§17.2.1: < 200 ms). */
export const TRYING_DELAY_MS = 100;

/** A stateless answer (400, 503) is sent once and forgotten: its outcome changes nothing. */
const ignoreSendResult = (): void => undefined;

/** A branch made by an RFC 3261 element: the magic cookie and something after it. */
export const isRfc3261Branch = (branch: string | undefined): boolean =>
  branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);

/** §17.1.3: branch of the top Via and CSeq method. */
export const clientKey = (msg: SipMessage): string => `${msg.via[0]?.branch ?? ''}|${msg.cseq.method}`;

/** §17.2.3: branch, sent-by and method (ACK matches INVITE); §17.2.3 RFC 2543 rules otherwise. */
export function serverKey(req: SipRequest, method: string = req.method): string {
  const via = req.via[0]!;
  const m = method === 'ACK' ? 'INVITE' : method;
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? ''}`;
  if (isRfc3261Branch(via.branch)) return `${via.branch ?? ''}|${sentBy}|${m}`;
  return ['2543', formatUri(req.uri), fromTag(req) ?? '', req.callId, req.cseq.seq, sentBy, via.branch ?? '', m].join('|');
}

export class TransactionLayer implements TransportDelegate {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** Server transactions created and maybe not yet answered (pruned when the limit is reached). */
  private readonly unanswered = new Set<ServerTransaction>();
  private readonly timers: Timers;
  private readonly values: TimerValues;
  /** New INVITE server transactions owed a 100 Trying if the TU has not answered them within `TRYING_DELAY_MS`. */
  private trying: ServerInviteTransaction[] = [];

  /** What every client (server) transaction of this layer shares: one object each, not one per transaction. */
  private readonly clientCtx: TransactionContext;
  private readonly serverCtx: TransactionContext;
  /** Where the answered server transactions wait out Timers J, L and I (oldest let go first under pressure). */
  private readonly serverLingering: Lingering;

  constructor(private readonly o: TransactionLayerOptions) {
    this.timers = o.timers ?? systemTimers;
    this.values = { ...DEFAULT_TIMER_VALUES, ...o.values };
    this.serverLingering = new Lingering(this.timers);
    this.clientCtx = { timers: this.timers, values: this.values, lingering: new Lingering(this.timers), terminated: (tx) => this.clientTerminated(tx) };
    this.serverCtx = { timers: this.timers, values: this.values, lingering: this.serverLingering, terminated: (tx) => this.serverTerminated(tx) };
  }

  /** Live transactions, client and server. */
  get size(): number {
    return this.clients.size + this.servers.size;
  }

  /** Starts a client transaction for `request` (its top Via carries the branch). */
  sendRequest(request: SipRequest, transport: Transport, destination: Endpoint, delegate: ClientTransactionDelegate): ClientTransaction {
    if (request.method === 'ACK') throw new TypeError('ACK is sent outside any transaction');
    const key = clientKey(request);
    if (this.clients.has(key)) throw new TypeError(`a client transaction already uses branch ${key}`);
    const tx =
      request.method === 'INVITE'
        ? new ClientInviteTransaction(this.clientCtx, key, transport, destination, request, delegate)
        : new ClientNonInviteTransaction(this.clientCtx, key, transport, destination, request, delegate);
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /** The INVITE server transaction a CANCEL targets (RFC 3261 §9.2). */
  findInviteFor(cancel: SipRequest): ServerInviteTransaction | undefined {
    const tx = this.servers.get(serverKey(cancel, 'INVITE'));
    return tx instanceof ServerInviteTransaction ? tx : undefined;
  }

  onMessage(message: SipMessage, source: Source): void {
    if (message.kind === 'response') this.onResponse(message, source);
    else this.onRequest(stampReceived(message, source.remote), source);
  }

  onParseError(error: ParseError, source: Source): void {
    if (this.o.answerParseErrors === false || error.request === undefined) return;
    const reply = replyToParseError(error);
    const first = error.request.headers.find((h) => h.name === 'Via')?.value ?? '';
    const via = parseVia((splitList(first) ?? [first])[0] ?? '');
    if (reply === undefined || !via.ok) return;
    postOn(source.transport, reply, responseDestination(via.value, source), ignoreSendResult);
  }

  private onResponse(response: SipResponse, source: Source): void {
    if (response.via.length !== 1) return; // §8.1.3.3: not for us
    const tx = this.clients.get(clientKey(response));
    if (tx !== undefined) tx.receive(response);
    else this.o.user.onStrayResponse?.(response, source);
  }

  private onRequest(request: SipRequest, source: Source): void {
    const key = serverKey(request);
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      if (existing.receive(request) === 'pass-to-tu') this.o.user.onRequest(request, undefined, source);
      return;
    }
    if (request.method === 'ACK') {
      this.o.user.onRequest(request, undefined, source);
      return;
    }
    if (this.overloaded()) {
      const busy = buildResponse(request, 503, { headers: [{ name: 'Retry-After', value: '5' }] });
      postOn(source.transport, serializeMessage(busy), responseDestination(request.via[0]!, source), ignoreSendResult);
      return;
    }
    let tx: ServerTransaction;
    const destination = responseDestination(request.via[0]!, source);
    // Kept as long as the transaction (32 s once answered): the branch and sent-by in it are cut
    // from the request's text, and each answered transaction kept its datagram alive (≈ 550
    // bytes; heap snapshot of a REGISTER storm, issue #4).
    const kept = ownCopy(key);
    if (request.method === 'INVITE') {
      const invite = new ServerInviteTransaction(this.serverCtx, kept, source.transport, destination, request);
      tx = invite;
      this.servers.set(kept, invite);
      this.owesTrying(invite);
    } else {
      tx = new ServerNonInviteTransaction(this.serverCtx, kept, source.transport, destination, request);
      this.servers.set(kept, tx);
    }
    this.unanswered.add(tx);
    this.o.user.onRequest(request, tx, source);
  }

  /**
   * §17.2.1: a new INVITE gets its 100 Trying only if the TU has not answered it within
   * `TRYING_DELAY_MS` (one timer for all the INVITEs of that window: each waits 0 to 100 ms,
   * half the RFC's 200 ms). An INVITE answered at once (407 challenge, 404, 503) or whose
   * call rings quickly (180 relayed) costs no 100: one datagram less per call on each side.
   */
  private owesTrying(invite: ServerInviteTransaction): void {
    this.trying.push(invite);
    if (this.trying.length > 1) return;
    this.timers.schedule(TRYING_DELAY_MS, () => {
      const owed = this.trying;
      this.trying = [];
      for (const t of owed) t.start();
    });
  }

  /**
   * Too many server transactions waiting for their final answer (or too many at all). Past ten
   * times the limit, the answered transactions that only linger for retransmissions are let go
   * oldest first, down to nine times it: each REGISTER (401, then 200) and each call (its 407,
   * its INVITE, its BYE) leaves two or three of them for up to 32 s, so a sustained ≈ 1 500
   * REGISTERs or calls a second filled the bound (100 000 by default) with them alone and every
   * new request got a 503 — a restart storm of 100 000 phones at 3 500 REGISTERs/s did within
   * 15 s (issue #4). The oldest are the nearest to their end anyway (created first, the same
   * 32 s each), and a client retransmits only until it hears an answer: what a late
   * retransmission could meet instead (a request handled again) is far less likely than the
   * refusals were certain. Kamailio lets an answered transaction go after 5 s (`wt_timer`).
   */
  private overloaded(): boolean {
    const max = this.o.maxServerTransactions ?? 10_000;
    if (this.servers.size >= 10 * max) {
      this.serverLingering.shed(() => this.servers.size > 9 * max);
      if (this.servers.size >= 10 * max) return true;
    }
    if (this.unanswered.size < max) return false;
    for (const t of this.unanswered) {
      if (t.state !== 'trying' && t.state !== 'proceeding') this.unanswered.delete(t);
    }
    return this.unanswered.size >= max;
  }

  /** A client transaction reached Terminated: it no longer matches responses. */
  private clientTerminated(tx: TransactionBase<string>): void {
    if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
  }

  /** A server transaction reached Terminated: it no longer matches requests nor counts as unanswered. */
  private serverTerminated(tx: TransactionBase<string>): void {
    if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
    this.unanswered.delete(tx as ServerTransaction);
  }
}
