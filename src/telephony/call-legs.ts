/**
 * The state of a call through the B2BUA (`call-router.ts`): the caller's leg (A: a
 * phone, or the carrier for an inbound call), the branches forked towards the callee
 * (B: phones' bindings, or the trunk / emergency route) and the helpers that build
 * in-dialog requests on either leg.
 */
import { normaliseDialled } from '../kernel/e164.ts';
import {
  type CancelTimer,
  type ClientTransaction,
  type Content,
  type Endpoint,
  type Header,
  type NameAddr,
  type ServerTransaction,
  type SipRequest,
  type SipResponse,
  type Source,
  type Timers,
  type Transport,
  type Uri,
  DEFAULT_TIMER_VALUES,
  getHeader,
  isSipUri,
  isTelUri,
  parseNameAddr,
} from '../sip/index.ts';
import type { CdrEndReason, HangupBy } from './cdrs.ts';

export type CallKind = 'internal' | 'outbound' | 'inbound';

/** Where one branch of a call goes, and who it says is calling. */
export interface ForkTarget {
  readonly uri: Uri;
  readonly destination: Endpoint;
  readonly transport: Transport;
  /** From value without tag. */
  readonly from: string;
  readonly to: string;
  readonly headers: readonly Header[];
}

/**
 * What in-dialog requests on an answered leg need (RFC 3261 §12.2.1.1) — the Call-ID, both
 * addresses with their tags, the remote target — rather than the messages the dialog was made
 * of: an answered call lasts minutes, and its INVITEs and 2xx as parsed and built messages were
 * ≈ 5 KB of the heap per call in progress (14.8 → 9.6 KiB with its transactions, `sip-call-cpu` BENCH_HOLD; issue #4).
 */
export interface LegDialog {
  readonly callId: string;
  /** Our address and tag: the From of our requests on this leg. */
  readonly local: NameAddr;
  /** Our tag (in `local`): the To tag of their requests on this leg. */
  readonly localTag: string;
  /** Theirs: the To of our requests. */
  readonly remote: NameAddr;
  readonly remoteTag: string | undefined;
  /** Where our requests go: their Contact, else their address. */
  readonly target: Uri;
}

export interface Branch {
  /** Our INVITE, until a 2xx answers it (a CANCEL is built from it before). */
  invite: SipRequest | undefined;
  readonly transport: Transport;
  readonly destination: Endpoint;
  readonly callId: string;
  tx: ClientTransaction | undefined;
  provisional: boolean;
  cancelWanted: boolean;
  final: number | undefined;
  /** The dialog its (first) 2xx made. */
  dialog: LegDialog | undefined;
  ack: Uint8Array | undefined;
  cseq: number;
  /** What its client transaction's callbacks reach (`call-router.ts`: cut loose at the end of the call). */
  owner: BranchOwner | undefined;
}

/**
 * The call and branch a branch's INVITE transaction reports to. That transaction outlives
 * the call by up to 32 s (Timer M, RFC 6026); once the call has ended, an answered branch
 * keeps only its ACK (to answer a retransmitted 2xx), not the whole call (~20 KB each: at
 * hundreds of calls/s, the heap the GC kept walking).
 */
export interface BranchOwner {
  call: Call | undefined;
  branch: Branch | undefined;
  ack: { readonly bytes: Uint8Array; readonly transport: Transport; readonly destination: Endpoint } | undefined;
}

/** An ACK the B2BUA owes the other leg once the originator of a relayed re-INVITE ACKs our 2xx. */
export interface PendingAck {
  /** The leg the re-INVITE came from (`a` = caller side). */
  readonly from: 'a' | 'b';
  readonly cseq: number;
  /** Sends the ACK (with the originator's body, if any) on the other leg. */
  readonly send: (content: Content | undefined) => void;
  /** The resending of our 2xx to the originator, stopped by its ACK. */
  resend: Resend | undefined;
}

/** RFC 3261's T1 and T2, as the transaction layer has them. */
const { t1: T1, t2: T2 } = DEFAULT_TIMER_VALUES;

/**
 * RFC 3261 §13.3.1.4: a 2xx resent over an unreliable transport (T1 doubling up to T2, for
 * 64·T1) until its ACK. `stop` at the ACK and at the end of the call: the pending timer
 * would otherwise keep the whole call (≈ 15 KB of parsed and built messages then) alive for
 * up to T1 after it — long enough for the young generation's collections to copy it twice
 * and promote it, at every call (issue #4).
 */
export class Resend {
  private cancel: CancelTimer | undefined;
  /** Dropped by `stop`: what they hold (the 2xx, the call) is not kept for the rest of the call. */
  private again: (() => void) | undefined;
  private done: (() => boolean) | undefined;

  constructor(
    private readonly timers: Timers,
    again: () => void,
    done: () => boolean,
  ) {
    this.again = again;
    this.done = done;
  }

  /** Starts resending when `transport` is unreliable; a reliable one resends for us (undefined). */
  static over(transport: Transport, timers: Timers, again: () => void, done: () => boolean): Resend | undefined {
    if (transport.reliable) return undefined;
    const r = new Resend(timers, again, done);
    r.after(T1, 0);
    return r;
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.again = undefined;
    this.done = undefined;
  }

  private after(interval: number, elapsed: number): void {
    this.cancel = elapsed >= 64 * T1 ? undefined : this.timers.schedule(interval, () => this.fire(interval, elapsed));
  }

  private fire(interval: number, elapsed: number): void {
    this.cancel = undefined;
    if (this.again === undefined || this.done?.() !== false) {
      this.stop();
      return;
    }
    this.again();
    this.after(Math.min(2 * interval, T2), elapsed + interval);
  }
}

export interface Call {
  readonly kind: CallKind;
  readonly callId: string;
  /** The caller's INVITE, until the call is answered (its responses are built from it). */
  invite: SipRequest | undefined;
  /** The caller's dialog, once answered. */
  dialog: LegDialog | undefined;
  readonly tx: ServerTransaction;
  readonly source: Source;
  /** Our To tag on the caller's leg. */
  readonly aTag: string;
  aCseq: number;
  readonly branches: Branch[];
  winner: Branch | undefined;
  state: 'ringing' | 'answered' | 'ended';
  /** The open CDR (null when it could not be written). */
  readonly cdrId: string | null;
  /** The call policy's admission handle (§4.3b live limits). */
  readonly admission: string | undefined;
  answeredAt: Date | undefined;
  acked: boolean;
  /** Our 2xx resent to the caller until its ACK. */
  resend: Resend | undefined;
  cancelTimer: (() => void) | undefined;
  maxTimer: (() => void) | undefined;
  pendingAck: PendingAck | undefined;
  /** The call's last CDR / policy-hook write (`CallRecords` runs the next one after it). */
  records: Promise<void> | undefined;
}

/** The caller's INVITE of a call not yet answered (what its provisional and final responses are built from). */
export function inviteOf(call: Call): SipRequest {
  if (call.invite === undefined) throw new Error(`call ${call.callId}: its INVITE is no longer kept once answered`);
  return call.invite;
}

/** A leg's dialog (a call answered). */
export function answeredDialog(leg: { readonly dialog: LegDialog | undefined; readonly callId: string }): LegDialog {
  if (leg.dialog === undefined) throw new Error(`call leg ${leg.callId} has no dialog`);
  return leg.dialog;
}

export interface CallEnd {
  readonly status: number;
  readonly hangupBy: HangupBy;
  readonly reason: CdrEndReason;
}

/** The best of several failures (RFC 3261 §16.7 step 6 spirit): 6xx, 486, other 4xx, 480, 408, then 5xx. */
export const FAILURE_RANK = (status: number): number =>
  status >= 600 ? 0 : status === 486 ? 1 : status === 480 ? 4 : status === 408 ? 5 : status >= 400 && status < 500 ? 2 : 6;

/** The status the caller gets when every branch failed (5xx → 480: the callee is unreachable, not us). */
export function bestFailure(statuses: readonly number[]): number {
  const best = statuses.length === 0 ? 480 : statuses.reduce((a, b) => (FAILURE_RANK(b) < FAILURE_RANK(a) ? b : a));
  return best >= 500 && best < 600 ? 480 : best;
}

/** The user part of a SIP URI (unescaped) or a tel number; '' otherwise. */
export function uriUser(uri: Uri): string {
  if (isSipUri(uri)) {
    try {
      return decodeURIComponent(uri.user ?? '');
    } catch {
      return uri.user ?? '';
    }
  }
  return isTelUri(uri) ? uri.number : '';
}

/** A number as E.164 when it normalises to one (a carrier may omit the `+`), else null. */
export function asE164(raw: string | null): string | null {
  if (raw === null || raw === '') return null;
  const n = normaliseDialled(raw);
  if (n.kind === 'e164') return n.number;
  if (/^[1-9]\d{7,14}$/u.test(raw)) return `+${raw}`;
  return null;
}

export const hostPort = (e: Endpoint): string => `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;

export function headerValue(msg: SipRequest | SipResponse, name: string): string {
  return msg.headers.find((h) => h.name === name)!.value;
}

export function nameAddr(value: string): NameAddr {
  const r = parseNameAddr(value);
  if (!r.ok) throw new TypeError(`bad name-addr ${value}: ${r.error}`);
  return r.value;
}

/** The body of a message with its Content-Type, if it has one. */
export function contentOf(msg: SipRequest | SipResponse): Content | undefined {
  const type = getHeader(msg, 'Content-Type');
  return msg.body.length > 0 && type !== undefined ? { type, body: msg.body } : undefined;
}
