/**
 * The call router: a B2BUA. An INVITE from an authenticated user is checked against
 * the `CallPolicy`, then goes to an extension of the same client (forked to every live
 * binding), to the carrier trunk (external numbers, E.164, caller ID in From and
 * P-Asserted-Identity) or to the emergency route (§8.7). An INVITE from a trusted
 * carrier to one of our numbers (DID) rings the user it is assigned to. 180/183 are
 * relayed, the first 2xx wins (the other branches are cancelled), CANCEL/ACK/BYE and
 * in-dialog re-INVITE/UPDATE/INFO are bridged between the legs. The CDR is opened at
 * the INVITE and closed at the end; the policy hears about the answer and the end.
 * The SDP is copied unchanged (media end to end).
 */
import type { Logger } from 'pino';
import type { SipTrunk } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { Clock } from '../kernel/clock.ts';
import { type DialResult, isExtensionSyntax, normaliseDialled } from '../kernel/e164.ts';
import {
  type ClientTransactionDelegate,
  type Endpoint,
  type Header,
  ServerInviteTransaction,
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
  newBranch,
  newCallId,
  newTag,
  postOn,
  responseBytes,
  serializeMessage,
  statelessTag,
  toTag,
} from '../sip/index.ts';
import type { Authenticator } from './auth.ts';
import {
  type Branch,
  type BranchOwner,
  Resend,
  type Call,
  type CallEnd,
  type CallKind,
  type ForkTarget,
  asE164,
  bestFailure,
  contentOf,
  inviteOf,
  nameAddr,
  uriUser,
} from './call-legs.ts';
import { CallRecords, type CdrStart } from './call-records.ts';
import type { CdrEndReason } from './cdrs.ts';
import type { Directory, SipCredentials } from './directory.ts';
import { userBindings } from './location.ts';
import type { CallDecision, CallPolicy } from './policy.ts';
import { relayInDialog } from './in-dialog.ts';
import { ALLOW, LegRequests, branchDialog, callerDialog } from './leg-requests.ts';
import { bindingTargets, carrierCallerNumber, presentedCallerId, trunkTarget, wantsPrivacy } from './route-targets.ts';
import { ANONYMOUS_FROM, trunkIdentity } from './trunk-identity.ts';

/** Timer C-like guard: an unanswered call is given up after this (RFC 3261 §16.6 step 11 says > 3 min). */
export const RING_TIMEOUT_MS = 180_000;
/**
 * Calls in setup at once (a phone's INVITE being authenticated, or any call waiting for
 * the policy and the CDR) past which a new one gets 503 + Retry-After at once (RFC 3261 §21.5.4) instead of
 * queueing behind the database until the caller gives up: under overload the node keeps
 * completing calls at its maximum rate. Emergency calls (§8.7) are never refused for it.
 */
export const MAX_CALL_SETUPS = 100;
interface BranchEvents {
  response(owner: BranchOwner, res: SipResponse): void;
  failed(owner: BranchOwner, status: 408 | 480): void;
}

/**
 * The delegate of a branch's INVITE transaction: one object with its methods on the prototype,
 * not three closures per branch (each also named by tsx's keepNames with a defineProperty, issue #4).
 */
class BranchDelegate implements ClientTransactionDelegate {
  constructor(
    private readonly owner: BranchOwner,
    private readonly events: BranchEvents,
  ) {}

  onResponse(res: SipResponse): void {
    this.events.response(this.owner, res);
  }

  onTimeout(): void {
    this.events.failed(this.owner, 408);
  }

  onTransportError(): void {
    this.events.failed(this.owner, 480);
  }
}

/** The delegate of a CANCEL or in-dialog request whose answer needs nothing: one object, not a named closure per request (issue #4). */
const IGNORE_RESPONSES = Object.freeze({ onResponse: (): void => undefined });
/** The CSeq of the INVITE of every branch (its ACK's; a retransmitted 2xx carries it). */
const FORK_CSEQ = 1;

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
  /** The carrier trunk for external numbers; undefined → 503. */
  readonly trunk?: SipTrunk | undefined;
  /** The emergency route (§8.7); undefined → the trunk. */
  readonly emergencyRoute?: SipTrunk | undefined;
  /** A call answered longer than this is hung up on both legs (E2P_SIP_MAX_CALL_SECONDS). */
  readonly maxCallSeconds?: number;
  /** This node's name on the CDRs it opens (crash recovery closes its own). */
  readonly sipNode: string;
  /** The transport to reach a binding registered over `protocol` (falls back to the caller's). */
  readonly transportFor: (protocol: string) => Transport | undefined;
  /** Keeps background work visible to `SipServer.idle()`. */
  readonly track: (p: Promise<void>) => void;
  readonly ringTimeoutMs?: number;
  /** `MAX_CALL_SETUPS` by default. */
  readonly maxCallSetups?: number;
}

export class CallRouter {
  /** Dialogs by Call-ID: the caller's leg and every branch. */
  private readonly legs = new Map<string, { call: Call; branch: Branch | undefined }>();
  private readonly byInviteTx = new Map<ServerTransaction, Call>();
  /** CDR and policy-hook writes, in order per call. */
  private readonly records: CallRecords;

  private readonly req: LegRequests;
  /** Calls between their INVITE and their first fork or final answer. */
  private setups = 0;
  /** The overload limit on calls in setup (tests may lower it). */
  maxSetups: number;

  constructor(private readonly o: CallRouterOptions) {
    this.req = new LegRequests(o.domain);
    this.records = new CallRecords(o);
    this.maxSetups = o.maxCallSetups ?? MAX_CALL_SETUPS;
  }

  /**
   * Runs a call's setup counted against `maxSetups`; past it, 503 at once (§8.7: not for
   * an emergency number).
   */
  private async limited(req: SipRequest, tx: ServerTransaction, emergency: boolean, setUp: () => Promise<void>): Promise<void> {
    if (!emergency && this.setups >= this.maxSetups) {
      tx.respond(buildResponse(req, 503, { reason: 'Service Unavailable (overloaded)', headers: [{ name: 'Retry-After', value: '1' }] }));
      return;
    }
    this.setups += 1;
    try {
      await setUp();
    } finally {
      this.setups -= 1;
    }
  }

  /** Calls in progress (tests). */
  get size(): number {
    return this.byInviteTx.size;
  }

  /** The ids of the CDRs of the calls in progress on this node (the orphan sweep leaves them alone). */
  openCdrIds(): Set<string> {
    return new Set([...this.byInviteTx.values()].flatMap((c) => (c.cdrId === null ? [] : [c.cdrId])));
  }

  /** An INVITE from a phone: authenticated (407), then the policy, then routed. A re-INVITE is relayed. */
  async invite(req: SipRequest, tx: ServerTransaction, source: Source): Promise<void> {
    if (toTag(req) !== undefined) {
      this.relay(req, tx);
      return;
    }
    const dialled = uriUser(req.uri);
    const n = normaliseDialled(dialled);
    // The credentials lookup counts too: it waits on the same database as the policy.
    await this.limited(req, tx, n.kind === 'short', async () => {
      const auth = await this.o.authenticator.check(req, source);
      if (auth.kind === 'challenge') this.challenge(req, tx, auth.status, auth.headers);
      else await this.setUp(req, tx, source, auth.credentials, dialled, n);
    });
  }

  /**
   * The 407 challenge written straight from the INVITE's header values
   * (`responseBytes`: no typed response built then serialised, issue #4), the bytes
   * `buildResponse` + `serializeMessage` give; through `buildResponse` where that is not possible.
   */
  private challenge(req: SipRequest, tx: ServerTransaction, status: number, headers: readonly Header[]): void {
    const toTag = statelessTag(req);
    if (tx instanceof ServerInviteTransaction) {
      const bytes = responseBytes(req, status, { headers, toTag });
      if (bytes !== undefined) {
        tx.respondStatelessly(status, bytes);
        return;
      }
    }
    tx.respond(buildResponse(req, status, { headers, toTag }));
  }

  private async setUp(req: SipRequest, tx: ServerTransaction, source: Source, caller: SipCredentials, dialled: string, n: DialResult): Promise<void> {
    const startedAt = this.o.clock.now();
    const callee = n.kind === 'short' || !isExtensionSyntax(dialled) ? null : await this.o.directory.findUserByExtension(caller.clientId, dialled);
    const normalised = callee !== null || n.kind === 'invalid' ? null : n.number;
    if (callee === null && normalised === null) {
      tx.respond(buildResponse(req, 404));
      return;
    }
    const privacy = wantsPrivacy(req);
    const presented = presentedCallerId(req, caller);
    const decision = await this.o.policy.decide({
      clientId: caller.clientId,
      userId: caller.userId,
      fromExtension: caller.extension,
      dialled,
      normalised,
      presentedCallerId: presented,
      privacy,
    });
    const kind: CallKind = callee !== null ? 'internal' : 'outbound';
    const base: CdrStart = {
      clientId: caller.clientId,
      userId: caller.userId,
      callId: req.callId,
      direction: kind,
      fromExtension: caller.extension,
      dialled,
      destination: callee !== null ? callee.extension : (normalised ?? dialled),
      startedAt,
      sipNode: this.o.sipNode,
    };
    if (!decision.allowed) {
      await this.refuse(req, tx, base, decision);
      return;
    }
    const cli: { callerId: string | null; callerIdReplaced: boolean; emergency: boolean; admission?: string } = {
      callerId: decision.callerId,
      callerIdReplaced: decision.callerIdReplaced ?? (decision.callerId !== null && presented !== null && decision.callerId !== presented),
      emergency: decision.emergency,
      ...(decision.admission === undefined ? {} : { admission: decision.admission }),
    };
    const via = { transportFor: this.o.transportFor, fallback: source.transport };
    let targets: ForkTarget[];
    if (callee !== null) {
      const bindings = await userBindings(this.o.db, callee.clientId, callee.userId, this.o.clock.now());
      targets = bindingTargets(bindings, { ...via, from: `<sip:${caller.extension}@${this.o.domain}>`, to: `<sip:${callee.extension}@${this.o.domain}>` });
    } else {
      // §8.7: an emergency call takes the emergency route whatever the client's state allows otherwise.
      const route = decision.emergency ? (this.o.emergencyRoute ?? this.o.trunk) : this.o.trunk;
      if (route === undefined) {
        await this.unroutable(req, tx, { ...base, ...cli }, 503, 'Service Unavailable (no trunk configured)', decision.admission);
        return;
      }
      // §17.1 caller ID in From and P-Asserted-Identity (RFC 3325), privacy kept (RFC 3323).
      const identity = trunkIdentity({
        callerId: decision.callerId,
        // The policy read it with the caller's other facts (no second lookup per call).
        trueIdentity: decision.assertedIdentity ?? null,
        privacy,
        emergency: decision.emergency,
        domain: this.o.domain,
      });
      targets = [trunkTarget(route, normalised!, identity, via)];
      cli.callerId = identity.presented; // §8.7: an emergency call shows the callback number even under privacy
    }
    if (targets.length === 0) {
      await this.unroutable(req, tx, { ...base, ...cli }, 480, undefined, decision.admission);
      return;
    }
    await this.start(kind, req, tx, source, { ...base, ...cli }, decision.admission, targets);
  }

  /** An INVITE from a trusted carrier (no digest): a DID → its user's bindings (§8.7/§13.1 via `decideInbound`). */
  async inbound(req: SipRequest, tx: ServerTransaction, source: Source): Promise<void> {
    if (toTag(req) !== undefined) {
      this.relay(req, tx);
      return;
    }
    await this.limited(req, tx, false, () => this.setUpInbound(req, tx, source));
  }

  private async setUpInbound(req: SipRequest, tx: ServerTransaction, source: Source): Promise<void> {
    const dialled = uriUser(req.uri);
    const did = asE164(dialled);
    const target = did === null ? null : await this.o.directory.findDidTarget(did);
    if (did === null || target === null) {
      tx.respond(buildResponse(req, 404, { reason: 'Not Found (number not assigned)' }));
      return;
    }
    const startedAt = this.o.clock.now();
    const callerNumber = carrierCallerNumber(req);
    const decision = await this.o.policy.decideInbound({ clientId: target.clientId, userId: target.userId, did, callerNumber });
    const base: CdrStart = {
      clientId: target.clientId,
      userId: target.userId,
      callId: req.callId,
      direction: 'inbound',
      fromExtension: null,
      dialled,
      destination: did,
      startedAt,
      sipNode: this.o.sipNode,
    };
    if (!decision.allowed) {
      await this.refuse(req, tx, base, decision);
      return;
    }
    const cdr = { ...base, callerId: callerNumber, callerIdReplaced: false, emergency: false, ...(decision.admission === undefined ? {} : { admission: decision.admission }) };
    const bindings = target.userId === null ? [] : await userBindings(this.o.db, target.clientId, target.userId, this.o.clock.now());
    const targets = bindingTargets(bindings, {
      transportFor: this.o.transportFor,
      fallback: source.transport,
      from: callerNumber === null ? ANONYMOUS_FROM : `<sip:${callerNumber}@${this.o.domain};user=phone>`,
      to: `<sip:${did}@${this.o.domain};user=phone>`,
    });
    if (targets.length === 0) {
      await this.unroutable(req, tx, cdr, 480, undefined, decision.admission);
      return;
    }
    await this.start('inbound', req, tx, source, cdr, decision.admission, targets);
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
    this.fail(call, { status: 487, hangupBy: 'caller', reason: 'cancel' });
  }

  /** ACK without a transaction: the ACK of our 2xx (first answer, or a relayed re-INVITE) → ACK the other leg. */
  ack(req: SipRequest): void {
    const found = this.dialogOf(req);
    if (found === undefined) return;
    const { call, side } = found;
    const pending = call.pendingAck;
    if (pending !== undefined && pending.from === side && pending.cseq === req.cseq.seq) {
      call.pendingAck = undefined;
      pending.resend?.stop();
      pending.send(contentOf(req));
      return;
    }
    if (side !== 'a' || call.acked) return;
    const winner = call.winner;
    if (winner?.ack === undefined) return;
    call.acked = true;
    call.resend?.stop();
    this.sendRaw(winner, winner.ack);
  }

  /**
   * BYE: 200 back (`reply`: the server writes it straight from the BYE's headers), BYE to the
   * other leg. Returns false when no dialog matched (→ 481 by the caller).
   */
  bye(req: SipRequest, reply: (status: number) => void): boolean {
    const found = this.dialogOf(req);
    if (found === undefined) return false;
    const { call, side } = found;
    reply(200);
    if (side === 'a') this.byeBranch(call.winner!);
    else this.byeCaller(call);
    this.end(call, { status: 200, hangupBy: side === 'a' ? 'caller' : 'callee', reason: 'bye' });
    return true;
  }

  /**
   * UPDATE / INFO (and re-INVITE, through `invite`) inside an established call: relayed to
   * the other leg with its dialog identifiers and CSeq, the answer relayed back.
   * Returns false when no dialog matched (→ 481 by the caller).
   */
  inDialog(req: SipRequest, tx: ServerTransaction): boolean {
    if (this.dialogOf(req) === undefined) return false;
    this.relay(req, tx);
    return true;
  }

  /** A 2xx retransmitted by a callee after its transaction ended: ACK it again. */
  strayResponse(res: SipResponse): void {
    if (res.status < 200 || res.status >= 300 || res.cseq.method !== 'INVITE') return;
    const leg = this.legs.get(res.callId);
    if (leg?.branch?.ack !== undefined && res.cseq.seq === FORK_CSEQ) this.sendRaw(leg.branch, leg.branch.ack);
  }

  /** The dialog a request belongs to: the caller's side (`a`) or the winning branch's (`b`), tags checked. */
  private dialogOf(req: SipRequest): { call: Call; side: 'a' | 'b' } | undefined {
    const leg = this.legs.get(req.callId);
    if (leg === undefined || leg.call.state !== 'answered') return undefined;
    const { call, branch } = leg;
    if (branch !== undefined && branch !== call.winner) return undefined;
    // The dialog is Call-ID + both tags: the caller's (From tag, our To tag) or the callee's (its To tag, our From tag).
    const d = branch === undefined ? call.dialog : branch.dialog;
    if (d === undefined || fromTag(req) !== d.remoteTag || toTag(req) !== d.localTag) return undefined;
    return { call, side: branch === undefined ? 'a' : 'b' };
  }

  private async refuse(req: SipRequest, tx: ServerTransaction, cdr: CdrStart, decision: CallDecision & { allowed: false }): Promise<void> {
    const reason = `clause ${decision.clause}: ${decision.reason}`.replace(/["\\\r\n]/gu, "'");
    tx.respond(buildResponse(req, decision.sipStatus, { headers: [{ name: 'Warning', value: `399 easy2phone "${reason}"` }] }));
    await this.records.refused(cdr, decision);
  }

  /** An allowed call that cannot be routed (no binding, no trunk): answered at once, recorded, admission released. */
  private async unroutable(req: SipRequest, tx: ServerTransaction, cdr: CdrStart, status: number, reason: string | undefined, admission: string | undefined): Promise<void> {
    tx.respond(buildResponse(req, status, reason === undefined ? {} : { reason }));
    await this.records.unavailable(cdr, status, admission, this.o.clock.now());
  }

  private async start(kind: CallKind, req: SipRequest, tx: ServerTransaction, source: Source, cdr: CdrStart, admission: string | undefined, targets: ForkTarget[]): Promise<void> {
    const cdrId = await this.records.open(cdr);
    const call: Call = {
      kind,
      callId: req.callId,
      invite: req,
      dialog: undefined,
      tx,
      source,
      aTag: newTag(),
      aCseq: 0,
      branches: [],
      winner: undefined,
      state: 'ringing',
      cdrId,
      admission,
      answeredAt: undefined,
      acked: false,
      resend: undefined,
      cancelTimer: undefined,
      maxTimer: undefined,
      pendingAck: undefined,
      records: undefined,
    };
    if (tx.state !== 'proceeding') {
      // The caller cancelled while we looked things up (the CANCEL answered 487 already).
      this.end(call, { status: 487, hangupBy: 'caller', reason: 'cancel' });
      return;
    }
    this.byInviteTx.set(tx, call);
    this.legs.set(req.callId, { call, branch: undefined });
    call.cancelTimer = this.o.timers.schedule(this.o.ringTimeoutMs ?? RING_TIMEOUT_MS, () => {
      if (call.state === 'ringing') this.fail(call, { status: 408, hangupBy: 'system', reason: 'no_answer' });
    });
    for (const target of targets) this.fork(call, target);
    this.settleIfAllFailed(call);
  }

  private fork(call: Call, target: ForkTarget): void {
    const { transport } = target;
    const local = this.req.local(transport);
    const callId = newCallId(local.address);
    const tag = newTag();
    const incoming = inviteOf(call);
    const content = contentOf(incoming);
    const invite = buildRequest({
      method: 'INVITE',
      uri: target.uri,
      from: nameAddr(`${target.from};tag=${tag}`),
      to: nameAddr(target.to),
      callId,
      cseq: FORK_CSEQ,
      via: { transport: transport.protocol, host: local.address, port: local.port, branch: newBranch(), rport: true },
      maxForwards: Math.max(0, (incoming.maxForwards ?? 70) - 1),
      contact: this.req.contact(transport),
      headers: [...target.headers, { name: 'Allow', value: ALLOW }],
      ...(content === undefined ? {} : { content }),
    });
    const branch: Branch = {
      invite,
      transport,
      destination: target.destination,
      callId,
      tx: undefined,
      provisional: false,
      cancelWanted: false,
      final: undefined,
      dialog: undefined,
      ack: undefined,
      cseq: FORK_CSEQ,
      owner: undefined,
    };
    const owner: BranchOwner = (branch.owner = { call, branch, ack: undefined });
    call.branches.push(branch);
    this.legs.set(callId, { call, branch });
    branch.tx = this.o.layer.sendRequest(invite, transport, branch.destination, new BranchDelegate(owner, this.branchEvents));
  }

  /** What a branch's INVITE transaction reports, for its `BranchDelegate` (one object per router). */
  private readonly branchEvents: BranchEvents = {
    response: (owner, res) => {
      if (owner.call !== undefined) this.onBranchResponse(owner.call, owner.branch!, res);
      else if (owner.ack !== undefined && res.status >= 200 && res.status < 300) this.send(owner.ack.transport, owner.ack.destination, owner.ack.bytes);
    },
    failed: (owner, status) => {
      if (owner.call !== undefined) this.onBranchFailed(owner.call, owner.branch!, status);
    },
  };

  /**
   * The call has ended: the INVITE transaction of a branch that answered (it lingers 32 s
   * in Accepted) keeps only the ACK for a retransmitted 2xx. A branch still unanswered
   * keeps the call, to ACK and BYE a late 2xx.
   */
  private release(branch: Branch): void {
    const owner = branch.owner;
    if (owner === undefined || branch.dialog === undefined) return;
    owner.ack = branch.ack === undefined ? undefined : { bytes: branch.ack, transport: branch.transport, destination: branch.destination };
    owner.call = undefined;
    owner.branch = undefined;
  }

  private onBranchResponse(call: Call, branch: Branch, res: SipResponse): void {
    if (res.status < 200) {
      if (res.status === 100) return;
      branch.provisional = true;
      if (branch.cancelWanted) {
        this.sendCancel(branch);
        return;
      }
      if (call.state === 'ringing' && (res.status === 180 || res.status === 183)) call.tx.respond(this.req.toCaller(call, res.status, res));
      return;
    }
    if (res.status >= 300) {
      this.onBranchFailed(call, branch, res.status);
      return;
    }
    // 2xx: ACK it (retransmissions too), then either it wins or it is hung up.
    const first = branch.dialog === undefined;
    if (branch.invite !== undefined) {
      // Answered: no CANCEL any more; what the leg's requests need is kept, not the messages.
      branch.dialog = branchDialog(branch.invite, res);
      branch.invite = undefined;
    }
    branch.final = res.status;
    branch.ack ??= serializeMessage(this.req.onBranch(branch, 'ACK', branch.cseq), true); // kept while Timer M runs
    if (!first) {
      // A retransmission: the winner's is ACKed once the caller has ACKed ours.
      if (branch !== call.winner || call.acked) this.sendRaw(branch, branch.ack);
      return;
    }
    if (call.state !== 'ringing') {
      this.sendRaw(branch, branch.ack);
      this.byeBranch(branch);
      if (call.state === 'ended') this.release(branch);
      return;
    }
    call.winner = branch;
    call.state = 'answered';
    const at = (call.answeredAt = this.o.clock.now());
    call.cancelTimer?.();
    const ok = this.req.toCaller(call, res.status, res);
    call.dialog = callerDialog(inviteOf(call), call.aTag);
    call.invite = undefined; // answered: its responses are built (`ok`, resent until the ACK)
    call.tx.respond(ok);
    call.resend = Resend.over(call.source.transport, this.o.timers, () => call.tx.respond(ok), () => call.acked || call.state !== 'answered');
    for (const other of call.branches) if (other !== branch) this.cancelBranch(other);
    const max = this.o.maxCallSeconds;
    if (max !== undefined) call.maxTimer = this.o.timers.schedule(max * 1000, () => this.hangUp(call, 'max_duration'));
    this.records.answered(call, at);
  }

  /** The server ends an answered call: BYE on both legs (max duration, shutdown). */
  private hangUp(call: Call, reason: CdrEndReason): void {
    if (call.state === 'ringing') {
      this.fail(call, { status: 480, hangupBy: 'system', reason });
      return;
    }
    if (call.state !== 'answered') return;
    this.byeBranch(call.winner!);
    this.byeCaller(call);
    this.end(call, { status: 200, hangupBy: 'system', reason });
  }

  private onBranchFailed(call: Call, branch: Branch, status: number): void {
    if (branch.final !== undefined) return;
    branch.final = status;
    this.settleIfAllFailed(call);
  }

  private settleIfAllFailed(call: Call): void {
    if (call.state !== 'ringing' || call.branches.some((b) => b.final === undefined)) return;
    const status = bestFailure(call.branches.map((b) => b.final!));
    this.fail(call, { status, hangupBy: status === 408 || status === 480 ? 'system' : 'callee', reason: status === 408 ? 'no_answer' : 'rejected' });
  }

  private fail(call: Call, how: CallEnd): void {
    call.state = 'ended';
    for (const b of call.branches) this.cancelBranch(b);
    if (call.tx.state === 'proceeding') call.tx.respond(buildResponse(inviteOf(call), how.status, { toTag: call.aTag }));
    this.end(call, how);
  }

  private end(call: Call, how: CallEnd): void {
    call.state = 'ended';
    call.cancelTimer?.();
    call.maxTimer?.();
    call.resend?.stop();
    call.pendingAck?.resend?.stop();
    this.byInviteTx.delete(call.tx);
    this.legs.delete(call.callId);
    for (const b of call.branches) {
      this.legs.delete(b.callId);
      this.release(b);
    }
    this.records.ended(call, how, this.o.clock.now());
  }

  private cancelBranch(branch: Branch): void {
    if (branch.final !== undefined || branch.cancelWanted) return;
    branch.cancelWanted = true;
    if (branch.provisional) this.sendCancel(branch);
  }

  private sendCancel(branch: Branch): void {
    // Only before a final response (`cancelBranch`), while the INVITE is kept.
    if (branch.invite !== undefined) this.o.layer.sendRequest(buildCancel(branch.invite), branch.transport, branch.destination, IGNORE_RESPONSES);
  }

  private byeBranch(branch: Branch): void {
    branch.cseq += 1;
    this.sendInDialog(branch.transport, branch.destination, this.req.onBranch(branch, 'BYE', branch.cseq));
  }

  private byeCaller(call: Call): void {
    call.aCseq += 1;
    this.sendInDialog(call.source.transport, call.source.remote, this.req.onCaller(call, 'BYE', call.aCseq));
  }

  private sendInDialog(transport: Transport, destination: Endpoint, req: SipRequest): void {
    this.o.layer.sendRequest(req, transport, destination, IGNORE_RESPONSES);
  }

  /** Relays an in-dialog re-INVITE/UPDATE/INFO to the other leg (`in-dialog.ts`); no dialog → 481. */
  private relay(req: SipRequest, tx: ServerTransaction): void {
    const found = this.dialogOf(req);
    if (found === undefined) {
      tx.respond(buildResponse(req, 481));
      return;
    }
    relayInDialog({ layer: this.o.layer, legs: this.req, log: this.o.log, timers: this.o.timers }, found.call, found.side, req, tx);
  }

  private sendRaw(branch: Branch, bytes: Uint8Array): void {
    this.send(branch.transport, branch.destination, bytes);
  }

  private send(transport: Transport, destination: Endpoint, bytes: Uint8Array): void {
    postOn(transport, bytes, destination, this.sendFailed);
  }

  /** The outcome of the ACKs sent outside any transaction (one function for all: no promise per datagram). */
  private readonly sendFailed = (e: Error | null): void => {
    if (e !== null) this.o.log.debug({ err: e }, 'SIP send failed');
  };
}
