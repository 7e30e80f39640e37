/**
 * The call router: a minimal B2BUA for calls between extensions of one client.
 * An INVITE from an authenticated user is checked against the `CallPolicy`; an
 * internal call forks a new INVITE (new Call-ID, From tag, Via) to every live
 * binding of the callee, relays 180/183, the first 2xx wins (the other branches
 * are cancelled), CANCEL/ACK/BYE are bridged between the legs, and a CDR is
 * written when the call ends. The SDP is copied unchanged (media end to end).
 * Outbound (trunk) and emergency routes are not there yet: 503.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Clock } from '../kernel/clock.ts';
import { normaliseDialled } from '../kernel/e164.ts';
import {
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
  type TransactionLayer,
  buildCancel,
  buildRequest,
  buildResponse,
  fromTag,
  getHeader,
  getHeaderValues,
  isSipUri,
  isTelUri,
  newBranch,
  newCallId,
  newTag,
  parseNameAddr,
  parseUri,
  serializeMessage,
  toTag,
} from '../sip/index.ts';
import type { Authenticator } from './auth.ts';
import { type CdrInput, recordCdr } from './cdrs.ts';
import type { Directory, SipCredentials } from './directory.ts';
import { type Binding, userBindings } from './location.ts';
import type { CallDecision, CallPolicy } from './policy.ts';

/** Timer C-like guard: an unanswered call is given up after this (RFC 3261 §16.6 step 11 says > 3 min). */
export const RING_TIMEOUT_MS = 180_000;
const T1 = 500;
const T2 = 4000;

export interface CallRouterOptions {
  readonly layer: TransactionLayer;
  readonly authenticator: Authenticator;
  readonly directory: Directory;
  readonly policy: CallPolicy;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timers: Timers;
  readonly domain: string;
  /** The transport to reach a binding registered over `protocol` (falls back to the caller's). */
  readonly transportFor: (protocol: string) => Transport | undefined;
  /** Keeps background work visible to `SipServer.idle()`. */
  readonly track: (p: Promise<void>) => void;
  readonly ringTimeoutMs?: number;
}

interface Branch {
  readonly binding: Binding;
  readonly invite: SipRequest;
  readonly transport: Transport;
  readonly destination: Endpoint;
  readonly callId: string;
  readonly fromTag: string;
  tx: ClientTransaction | undefined;
  provisional: boolean;
  cancelWanted: boolean;
  final: number | undefined;
  /** The 2xx of this branch (To tag, Contact). */
  answer: SipResponse | undefined;
  ack: Uint8Array | undefined;
  cseq: number;
}

interface Call {
  readonly invite: SipRequest;
  readonly tx: ServerTransaction;
  readonly source: Source;
  /** Our To tag on the caller's leg. */
  readonly aTag: string;
  aCseq: number;
  readonly branches: Branch[];
  winner: Branch | undefined;
  state: 'ringing' | 'answered' | 'ended';
  readonly cdr: Omit<CdrInput, 'sipStatus' | 'answeredAt' | 'endedAt' | 'billableSeconds'>;
  answeredAt: Date | undefined;
  acked: boolean;
  cancelTimer: (() => void) | undefined;
}

const FAILURE_RANK = (status: number): number =>
  status >= 600 ? 0 : status === 486 ? 1 : status === 480 ? 4 : status === 408 ? 5 : status >= 400 && status < 500 ? 2 : 6;

export class CallRouter {
  /** Dialogs by Call-ID: the caller's leg and every branch. */
  private readonly legs = new Map<string, { call: Call; branch: Branch | undefined }>();
  private readonly byInviteTx = new Map<ServerTransaction, Call>();

  constructor(private readonly o: CallRouterOptions) {}

  /** Calls in progress (tests). */
  get size(): number {
    return this.byInviteTx.size;
  }

  async invite(req: SipRequest, tx: ServerTransaction, source: Source): Promise<void> {
    if (toTag(req) !== undefined) {
      tx.respond(buildResponse(req, 501, { reason: 'Not Implemented (re-INVITE)' }));
      return;
    }
    const auth = await this.o.authenticator.authenticate(req, source);
    if (auth.kind === 'reply') {
      tx.respond(auth.response);
      return;
    }
    const caller = auth.credentials;
    const dialled = isSipUri(req.uri) ? decodeURIComponent(req.uri.user ?? '') : isTelUri(req.uri) ? req.uri.number : '';
    const startedAt = this.o.clock.now();
    const n = normaliseDialled(dialled);
    const callee = n.kind === 'short' ? null : await this.o.directory.findUserByExtension(caller.clientId, dialled);
    const normalised = callee !== null || n.kind === 'invalid' ? null : n.number;
    if (callee === null && normalised === null) {
      tx.respond(buildResponse(req, 404));
      return;
    }
    const fromUser = isSipUri(req.from.uri) ? (req.from.uri.user ?? null) : isTelUri(req.from.uri) ? req.from.uri.number : null;
    const privacy =
      getHeaderValues(req, 'Privacy').some((v) => /^(id|user|header)$/iu.test(v.trim())) || fromUser?.toLowerCase() === 'anonymous';
    const decision = await this.o.policy.decide({
      clientId: caller.clientId,
      userId: caller.userId,
      fromExtension: caller.extension,
      dialled,
      normalised,
      presentedCallerId: fromUser,
      privacy,
    });
    const base = {
      clientId: caller.clientId,
      userId: caller.userId,
      callId: req.callId,
      direction: callee !== null ? ('internal' as const) : ('outbound' as const),
      fromExtension: caller.extension,
      dialled,
      destination: callee !== null ? callee.extension : (normalised ?? dialled),
      startedAt,
    };
    if (!decision.allowed) {
      const reason = `clause ${decision.clause}: ${decision.reason}`.replace(/["\\\r\n]/gu, "'");
      tx.respond(buildResponse(req, decision.sipStatus, { headers: [{ name: 'Warning', value: `399 easy2phone "${reason}"` }] }));
      await this.cdr({ ...base, callerId: null, allowed: false, clause: decision.clause, sipStatus: decision.sipStatus }, startedAt);
      return;
    }
    const common = { ...base, ...callerIdFields(decision, fromUser), allowed: true, clause: null, emergency: decision.emergency };
    if (callee === null) {
      // Trunks and the emergency route come next.
      tx.respond(buildResponse(req, 503, { reason: 'Service Unavailable (no route yet)' }));
      await this.cdr({ ...common, sipStatus: 503 }, startedAt);
      return;
    }
    const bindings = await userBindings(this.o.db, callee.clientId, callee.userId, this.o.clock.now());
    if (bindings.length === 0) {
      tx.respond(buildResponse(req, 480));
      await this.cdr({ ...common, sipStatus: 480 }, startedAt);
      return;
    }
    if (tx.state !== 'proceeding') return; // the caller cancelled while we looked things up
    const call: Call = {
      invite: req,
      tx,
      source,
      aTag: newTag(),
      aCseq: 0,
      branches: [],
      winner: undefined,
      state: 'ringing',
      cdr: common,
      answeredAt: undefined,
      acked: false,
      cancelTimer: undefined,
    };
    this.byInviteTx.set(tx, call);
    this.legs.set(req.callId, { call, branch: undefined });
    call.cancelTimer = this.o.timers.schedule(this.o.ringTimeoutMs ?? RING_TIMEOUT_MS, () => this.giveUp(call, 408));
    for (const binding of bindings) this.fork(call, binding, caller, callee.extension);
    this.settleIfAllFailed(call);
  }

  /** CANCEL from the caller (RFC 3261 §9.2): 200 to it, 487 to the INVITE, branches cancelled. */
  cancel(req: SipRequest, respond: (res: SipResponse) => void): void {
    const invite = this.o.layer.findInviteFor(req);
    const call = invite === undefined ? undefined : this.byInviteTx.get(invite);
    if (invite === undefined) {
      respond(buildResponse(req, 481));
      return;
    }
    respond(buildResponse(req, 200));
    if (call === undefined) {
      if (invite.state === 'proceeding') invite.respond(buildResponse(invite.request, 487));
      return;
    }
    if (call.state !== 'ringing') return;
    this.fail(call, 487);
  }

  /** ACK without a transaction: the ACK of our 2xx to the caller → ACK the winning branch. */
  ack(req: SipRequest): void {
    const leg = this.legs.get(req.callId);
    if (leg === undefined || leg.branch !== undefined) return;
    const winner = leg.call.winner;
    if (winner?.ack === undefined) return;
    leg.call.acked = true;
    this.sendRaw(winner, winner.ack);
  }

  /** BYE: 200 back, BYE to the other leg. Returns false when no dialog matched (→ 481 by the caller). */
  bye(req: SipRequest, respond: (res: SipResponse) => void): boolean {
    const leg = this.legs.get(req.callId);
    if (leg === undefined || leg.call.state !== 'answered') return false;
    const { call, branch } = leg;
    if (branch !== undefined && branch !== call.winner) return false;
    // The dialog is Call-ID + both tags: the caller's (From tag, our To tag) or the callee's (its To tag, our From tag).
    const tags = branch === undefined ? [fromTag(call.invite), call.aTag] : [toTag(branch.answer!), branch.fromTag];
    if (fromTag(req) !== tags[0] || toTag(req) !== tags[1]) return false;
    respond(buildResponse(req, 200));
    if (branch === undefined) this.byeBranch(call.winner!);
    else this.byeCaller(call);
    this.end(call, 200);
    return true;
  }

  /** A 2xx retransmitted by a callee after its transaction ended: ACK it again. */
  strayResponse(res: SipResponse): void {
    if (res.status < 200 || res.status >= 300 || res.cseq.method !== 'INVITE') return;
    const leg = this.legs.get(res.callId);
    if (leg?.branch?.ack !== undefined) this.sendRaw(leg.branch, leg.branch.ack);
  }

  private fork(call: Call, binding: Binding, caller: SipCredentials, calleeExtension: string): void {
    const target = parseUri(binding.contactUri);
    const transport = this.o.transportFor(binding.sourceTransport.toUpperCase()) ?? call.source.transport;
    if (!target.ok) return;
    const local = this.local(transport);
    const callId = newCallId(local.address);
    const tag = newTag();
    const contentType = getHeader(call.invite, 'Content-Type');
    const content: Content | undefined = call.invite.body.length > 0 && contentType !== undefined ? { type: contentType, body: call.invite.body } : undefined;
    const invite = buildRequest({
      method: 'INVITE',
      uri: target.value,
      from: nameAddr(`<sip:${caller.extension}@${this.o.domain}>;tag=${tag}`),
      to: nameAddr(`<sip:${calleeExtension}@${this.o.domain}>`),
      callId,
      cseq: 1,
      via: { transport: transport.protocol, host: local.address, port: local.port, branch: newBranch(), rport: true },
      maxForwards: Math.max(0, (call.invite.maxForwards ?? 70) - 1),
      contact: this.contact(transport),
      headers: [{ name: 'Allow', value: 'INVITE, ACK, CANCEL, BYE, OPTIONS' }],
      ...(content === undefined ? {} : { content }),
    });
    const branch: Branch = {
      binding,
      invite,
      transport,
      destination: { address: binding.sourceAddress, port: binding.sourcePort },
      callId,
      fromTag: tag,
      tx: undefined,
      provisional: false,
      cancelWanted: false,
      final: undefined,
      answer: undefined,
      ack: undefined,
      cseq: 1,
    };
    call.branches.push(branch);
    this.legs.set(callId, { call, branch });
    branch.tx = this.o.layer.sendRequest(invite, transport, branch.destination, {
      onResponse: (res) => this.onBranchResponse(call, branch, res),
      onTimeout: () => this.onBranchFailed(call, branch, 408),
      onTransportError: () => this.onBranchFailed(call, branch, 480),
    });
  }

  private onBranchResponse(call: Call, branch: Branch, res: SipResponse): void {
    if (res.status < 200) {
      if (res.status === 100) return;
      branch.provisional = true;
      if (branch.cancelWanted) {
        this.sendCancel(branch);
        return;
      }
      if (call.state === 'ringing' && (res.status === 180 || res.status === 183)) {
        call.tx.respond(this.toCaller(call, res.status, res));
      }
      return;
    }
    if (res.status >= 300) {
      this.onBranchFailed(call, branch, res.status);
      return;
    }
    // 2xx: ACK it (retransmissions too), then either it wins or it is hung up.
    const first = branch.answer === undefined;
    branch.answer = res;
    branch.final = res.status;
    branch.ack ??= serializeMessage(this.inDialog(branch, 'ACK', branch.cseq));
    if (!first) {
      // A retransmission: the winner's is ACKed once the caller has ACKed ours.
      if (branch !== call.winner || call.acked) this.sendRaw(branch, branch.ack);
      return;
    }
    if (call.state !== 'ringing') {
      this.sendRaw(branch, branch.ack);
      this.byeBranch(branch);
      return;
    }
    call.winner = branch;
    call.state = 'answered';
    call.answeredAt = this.o.clock.now();
    call.cancelTimer?.();
    const ok = this.toCaller(call, res.status, res);
    call.tx.respond(ok);
    this.retransmitUntilAcked(call, ok);
    for (const other of call.branches) if (other !== branch) this.cancelBranch(other);
  }

  /** RFC 3261 §13.3.1.4: over UDP the 2xx to the caller is resent (T1 doubling up to T2) until its ACK, for 64·T1. */
  private retransmitUntilAcked(call: Call, ok: SipResponse): void {
    if (call.source.transport.reliable) return;
    const giveUpAt = 64 * T1;
    const again = (interval: number, elapsed: number): void => {
      if (elapsed >= giveUpAt) return;
      this.o.timers.schedule(interval, () => {
        if (call.acked || call.state !== 'answered') return;
        call.tx.respond(ok);
        again(Math.min(2 * interval, T2), elapsed + interval);
      });
    };
    again(T1, 0);
  }

  private onBranchFailed(call: Call, branch: Branch, status: number): void {
    if (branch.final !== undefined) return;
    branch.final = status;
    this.settleIfAllFailed(call);
  }

  private settleIfAllFailed(call: Call): void {
    if (call.state !== 'ringing' || call.branches.some((b) => b.final === undefined)) return;
    const statuses = call.branches.map((b) => b.final!);
    const best = statuses.length === 0 ? 480 : statuses.reduce((a, b) => (FAILURE_RANK(b) < FAILURE_RANK(a) ? b : a));
    this.fail(call, best >= 500 && best < 600 ? 480 : best);
  }

  private giveUp(call: Call, status: number): void {
    if (call.state === 'ringing') this.fail(call, status);
  }

  private fail(call: Call, status: number): void {
    call.state = 'ended';
    call.cancelTimer?.();
    for (const b of call.branches) this.cancelBranch(b);
    if (call.tx.state === 'proceeding') call.tx.respond(buildResponse(call.invite, status, { toTag: call.aTag }));
    this.end(call, status);
  }

  private end(call: Call, status: number): void {
    call.state = 'ended';
    call.cancelTimer?.();
    this.byInviteTx.delete(call.tx);
    this.legs.delete(call.invite.callId);
    for (const b of call.branches) this.legs.delete(b.callId);
    const endedAt = this.o.clock.now();
    const answeredAt = call.answeredAt ?? null;
    const billableSeconds = answeredAt === null ? 0 : Math.max(0, Math.ceil((endedAt.getTime() - answeredAt.getTime()) / 1000));
    this.o.track(this.cdr({ ...call.cdr, sipStatus: answeredAt === null ? status : 200, answeredAt, billableSeconds }, endedAt));
  }

  private async cdr(cdr: Omit<CdrInput, 'endedAt'>, endedAt: Date): Promise<void> {
    try {
      await recordCdr(this.o.db, { ...cdr, endedAt });
    } catch (e) {
      this.o.log.error({ err: e, callId: cdr.callId }, 'CDR not recorded');
    }
  }

  private cancelBranch(branch: Branch): void {
    if (branch.final !== undefined || branch.cancelWanted) return;
    branch.cancelWanted = true;
    if (branch.provisional) this.sendCancel(branch);
  }

  private sendCancel(branch: Branch): void {
    this.o.layer.sendRequest(buildCancel(branch.invite), branch.transport, branch.destination, { onResponse: () => undefined });
  }

  private byeBranch(branch: Branch): void {
    branch.cseq += 1;
    this.sendInDialog(branch.transport, branch.destination, this.inDialog(branch, 'BYE', branch.cseq));
  }

  private byeCaller(call: Call): void {
    call.aCseq += 1;
    const transport = call.source.transport;
    const local = this.local(transport);
    const target = call.invite.contact.find((c) => !c.star);
    const uri = target?.uri ?? call.invite.from.uri;
    const bye = buildRequest({
      method: 'BYE',
      uri,
      from: nameAddr(`${headerValue(call.invite, 'To')};tag=${call.aTag}`),
      to: nameAddr(headerValue(call.invite, 'From')),
      callId: call.invite.callId,
      cseq: call.aCseq,
      via: { transport: transport.protocol, host: local.address, port: local.port, rport: true },
    });
    this.sendInDialog(transport, call.source.remote, bye);
  }

  private sendInDialog(transport: Transport, destination: Endpoint, req: SipRequest): void {
    this.o.layer.sendRequest(req, transport, destination, { onResponse: () => undefined });
  }

  /** ACK or BYE on a branch's dialog (the callee's To tag from its 2xx). */
  private inDialog(branch: Branch, method: 'ACK' | 'BYE', cseq: number): SipRequest {
    const answer = branch.answer!;
    const contact = answer.contact.find((c) => !c.star);
    const local = this.local(branch.transport);
    return buildRequest({
      method,
      uri: contact?.uri ?? branch.invite.uri,
      from: branch.invite.from,
      to: nameAddr(headerValue(answer, 'To')),
      callId: branch.callId,
      cseq,
      via: { transport: branch.transport.protocol, host: local.address, port: local.port, rport: true },
    });
  }

  /** A response to the caller carrying the callee's body (SDP), our To tag and Contact. */
  private toCaller(call: Call, status: number, res: SipResponse): SipResponse {
    const type = getHeader(res, 'Content-Type');
    const content: Content | undefined = res.body.length > 0 && type !== undefined ? { type, body: res.body } : undefined;
    const headers: Header[] = [{ name: 'Contact', value: `<sip:b2bua@${hostPort(this.local(call.source.transport))};transport=${call.source.transport.protocol.toLowerCase()}>` }];
    if (status >= 200) headers.push({ name: 'Allow', value: 'INVITE, ACK, CANCEL, BYE, OPTIONS' });
    return buildResponse(call.invite, status, { toTag: call.aTag, headers, ...(content === undefined ? {} : { content }) });
  }

  private sendRaw(branch: Branch, bytes: Uint8Array): void {
    branch.transport.send(bytes, branch.destination).catch((e: unknown) => this.o.log.debug({ err: e }, 'SIP send failed'));
  }

  private local(transport: Transport): Endpoint {
    const { address, port } = transport.local;
    return address === '0.0.0.0' || address === '::' ? { address: this.o.domain, port } : { address, port };
  }

  private contact(transport: Transport): NameAddr {
    return nameAddr(`<sip:b2bua@${hostPort(this.local(transport))};transport=${transport.protocol.toLowerCase()}>`);
  }
}

function callerIdFields(decision: CallDecision & { allowed: true }, presented: string | null): { callerId: string | null; callerIdReplaced: boolean } {
  return { callerId: decision.callerId, callerIdReplaced: decision.callerId !== null && decision.callerId !== presented };
}

const hostPort = (e: Endpoint): string => `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;

function headerValue(msg: SipRequest | SipResponse, name: string): string {
  return msg.headers.find((h) => h.name === name)!.value;
}

function nameAddr(value: string): NameAddr {
  const r = parseNameAddr(value);
  if (!r.ok) throw new TypeError(`bad name-addr ${value}: ${r.error}`);
  return r.value;
}
