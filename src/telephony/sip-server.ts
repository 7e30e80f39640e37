/**
 * The SIP service: UDP and TCP transports on `config.sip`, the transaction
 * layer, and the request dispatch of the telephony core: first the brute-force
 * check (RULES §4.4/§4.10, in memory: a blocked source or locked account → 403),
 * then OPTIONS (200), REGISTER
 * (registrar), INVITE from a trusted carrier (`E2P_SIP_TRUSTED_CARRIERS`: inbound, no
 * challenge), INVITE/ACK/CANCEL/BYE/UPDATE/INFO (the call router, `call-router.ts`),
 * unknown methods (501), unsupported Require (420), Max-Forwards 0 (483), unparsable
 * requests (400/505 from the transaction layer). At `listen` it first closes the CDRs
 * a crash left open (`recover`). Nothing a peer sends may crash it: every handler is
 * guarded and a failure becomes a 500.
 */
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { Clock } from '../kernel/clock.ts';
import {
  type Endpoint,
  type Header,
  type ParseError,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type Source,
  type Timers,
  type Transport,
  type TransportDelegate,
  type ServerTransaction,
  ServerNonInviteTransaction,
  TcpTransport,
  TransactionLayer,
  TimerWheel,
  UdpTransport,
  ThreadedUdpTransport,
  buildResponse,
  checkRequest,
  getHeaderValues,
  reasonPhrase,
  responseBytes,
  statelessTag,
} from '../sip/index.ts';
import { type AuthFailure, Authenticator } from './auth.ts';
import { type BruteForceLimits, SipBruteForceGuard } from './brute-force.ts';
import type { Directory } from './directory.ts';
import { CallRouter, RING_TIMEOUT_MS } from './call-router.ts';
import { closeOpenCdrs } from './cdrs.ts';
import { purgeExpiredBindings } from './location.ts';
import { type CallPolicy, type DecisionKind, permissiveCallPolicy, timedCallPolicy } from './policy.ts';
import { sipNonceSecret } from './nonce-secret.ts';
import { type ExpiresBounds, type RegisterReply, Registrar } from './registrar.ts';

/** Methods this server answers. */
export const ALLOWED_METHODS = ['REGISTER', 'OPTIONS', 'INVITE', 'ACK', 'CANCEL', 'BYE', 'UPDATE', 'INFO'] as const;
/** Option tags we support (Require/Proxy-Require with anything else → 420). */
export const SUPPORTED_EXTENSIONS: readonly string[] = [];
const SERVER = 'Easy2Phone';

export interface SipServerOptions {
  readonly sip: Config['sip'];
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly directory: Directory;
  /** HMAC key of the digest nonces (`sipNonceSecret`). */
  readonly nonceSecret: string;
  /** Transaction and call timers: `ManualTimers` in tests, a `TimerWheel` by default. */
  readonly timers?: Timers;
  readonly expires?: ExpiresBounds;
  /** Security hook for failed authentications (RULES §4.4 brute-force limits). */
  readonly onAuthFailure?: (failure: AuthFailure) => void | Promise<void>;
  /** How often expired bindings are purged while listening: 5 minutes by default. */
  readonly purgeIntervalMs?: number;
  /** Brute-force limits (RULES §4.4/§4.10): `BRUTE_FORCE_LIMITS` by default. */
  readonly bruteForceLimits?: BruteForceLimits;
  /** Asked before every call: `permissiveCallPolicy()` by default; the composition root wires `dbCallPolicy`. */
  readonly policy?: CallPolicy;
  /** How long a call may ring before it is given up (408): 180 s by default. */
  readonly ringTimeoutMs?: number;
  /** This node's name on the CDRs it opens (crash recovery closes its own open ones): `sip.nodeId` by default. */
  readonly nodeId?: string;
  /** How long a digest nonce stays fresh (older → `stale=true`): 5 minutes by default. */
  readonly nonceLifetimeMs?: number;
}

export class SipServer {
  readonly layer: TransactionLayer;
  readonly registrar: Registrar;
  /** Digest authentication shared by every method (failures feed `guard`): the call router must use this one. */
  readonly authenticator: Authenticator;
  /** The brute-force limits, checked in memory first on every request. */
  readonly guard: SipBruteForceGuard;
  /** The B2BUA for calls between extensions. */
  readonly router: CallRouter;
  /**
   * What the transports deliver to: the transaction layer, guarded so that an
   * exception on one message is logged and never reaches the socket's emitter.
   */
  readonly delegate: TransportDelegate;
  private readonly transports: Transport[] = [];
  private droppedBeforeClose = 0;
  /** Background tasks (`track`) not yet settled, and who waits for none to be left (`idle`). */
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private purgeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly trusted: ReadonlySet<string>;
  private readonly policy: CallPolicy;
  readonly nodeId: string;

  constructor(private readonly o: SipServerOptions) {
    this.trusted = new Set(o.sip.trustedCarriers);
    this.policy = o.policy ?? permissiveCallPolicy();
    this.nodeId = o.nodeId ?? o.sip.nodeId;
    // One timer wheel for the node's transactions and calls: 10 ms ticks share a setTimeout (issue #4).
    const timers = o.timers ?? new TimerWheel();
    this.layer = new TransactionLayer({
      user: {
        onRequest: (req, tx, source) => this.onRequest(req, tx, source),
        onStrayResponse: (res) => this.router.strayResponse(res),
      },
      timers,
    });
    this.guard = new SipBruteForceGuard({
      db: o.db,
      clock: o.clock,
      log: o.log,
      directory: o.directory,
      ...(o.bruteForceLimits === undefined ? {} : { limits: o.bruteForceLimits }),
    });
    const authenticator = (this.authenticator = new Authenticator({
      directory: o.directory,
      realm: o.sip.domain,
      algorithms: o.sip.digestAlgorithms,
      nonceSecret: o.nonceSecret,
      clock: o.clock,
      log: o.log,
      ...(o.nonceLifetimeMs === undefined ? {} : { nonceLifetimeMs: o.nonceLifetimeMs }),
      onAuthFailure: async (failure) => {
        try {
          await this.guard.onAuthFailure(failure);
        } finally {
          await o.onAuthFailure?.(failure);
        }
      },
    }));
    this.registrar = new Registrar({
      db: o.db,
      clock: o.clock,
      log: o.log,
      authenticator,
      domain: o.sip.domain,
      ...(o.expires === undefined ? {} : { expires: o.expires }),
    });
    this.router = new CallRouter({
      layer: this.layer,
      authenticator,
      directory: o.directory,
      policy: this.policy,
      db: o.db,
      clock: o.clock,
      log: o.log,
      timers,
      domain: o.sip.domain,
      trunk: o.sip.trunk,
      emergencyRoute: o.sip.emergencyRoute,
      maxCallSeconds: o.sip.maxCallSeconds,
      sipNode: this.nodeId,
      transportFor: (protocol) => this.transports.find((t) => t.protocol === protocol),
      track: (p) => this.track(p),
      ...(o.ringTimeoutMs === undefined ? {} : { ringTimeoutMs: o.ringTimeoutMs }),
    });
    const guard = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        this.o.log.error({ err: e }, `SIP ${what} failed`);
      }
    };
    this.delegate = {
      onMessage: (message: SipMessage, source: Source) => guard('message handling', () => this.layer.onMessage(message, source)),
      onParseError: (error: ParseError, source: Source) => {
        this.o.log.debug({ reason: error.reason, remote: source.remote }, 'unparsable SIP message');
        guard('parse error handling', () => this.layer.onParseError(error, source));
      },
      onTransportError: (reason: string, remote: Endpoint) => this.o.log.debug({ reason, remote }, 'SIP transport error'),
    };
  }

  /** Binds UDP and TCP on `sip.host` and the configured ports (0 = ephemeral); returns the bound addresses. */
  async listen(): Promise<{ udp: Endpoint; tcp: Endpoint }> {
    await this.recover();
    const udp = await (this.o.sip.udpThread ? ThreadedUdpTransport : UdpTransport).listen({ host: this.o.sip.host, port: this.o.sip.udpPort, delegate: this.delegate });
    this.transports.push(udp);
    try {
      const tcp = await TcpTransport.listen({ host: this.o.sip.host, port: this.o.sip.tcpPort, delegate: this.delegate });
      this.transports.push(tcp);
      await this.guard.start();
      this.purgeTimer = setInterval(() => this.track(this.purge()), this.o.purgeIntervalMs ?? 300_000);
      this.purgeTimer.unref();
      this.o.log.info({ udp: udp.local, tcp: tcp.local }, 'SIP server listening');
      return { udp: udp.local, tcp: tcp.local };
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Deletes expired bindings now, and closes this node's CDRs older than the maximum call duration that no live call holds. */
  async purge(): Promise<void> {
    await this.guard.purge();
    const now = this.o.clock.now();
    const n = await purgeExpiredBindings(this.o.db, now);
    if (n > 0) this.o.log.debug({ purged: n }, 'expired SIP bindings purged');
    const limit = (this.o.sip.maxCallSeconds + 60) * 1000 + (this.o.ringTimeoutMs ?? RING_TIMEOUT_MS);
    await this.closeOrphans('max_duration', now, new Date(now.getTime() - limit));
  }

  /**
   * Start-up: closes the CDRs this node left open (a crash interrupted their calls), with
   * reason `crash_recovery`, and releases their policy admissions. `listen` calls it.
   */
  async recover(): Promise<number> {
    return this.closeOrphans('crash_recovery', this.o.clock.now());
  }

  private async closeOrphans(reason: 'crash_recovery' | 'max_duration', at: Date, startedBefore?: Date): Promise<number> {
    const closed = await closeOpenCdrs(this.o.db, {
      sipNode: this.nodeId,
      at,
      reason,
      except: this.router.openCdrIds(),
      ...(startedBefore === undefined ? {} : { startedBefore }),
    });
    for (const c of closed) {
      if (c.admission !== null) await this.policy.ended(c.admission, at);
    }
    if (closed.length > 0) this.o.log.warn({ closed: closed.length, reason, callIds: closed.map((c) => c.callId) }, 'open CDRs closed');
    return closed.length;
  }

  /**
   * Datagrams the UDP socket's thread let go because the SIP thread was too far behind
   * (`ThreadedUdpTransport.droppedDatagrams`), since start: the Prometheus counter
   * `e2p_sip_udp_dropped_datagrams_total`.
   */
  get droppedDatagrams(): number {
    let n = this.droppedBeforeClose;
    for (const t of this.transports) if (t instanceof ThreadedUdpTransport) n += t.droppedDatagrams;
    return n;
  }

  /** Resolves when every request being handled has been answered (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops listening, after the requests in progress are answered. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.purgeTimer !== undefined) clearInterval(this.purgeTimer);
    this.guard.stop();
    await this.idle();
    await Promise.all(this.transports.map((t) => t.close()));
    this.droppedBeforeClose = this.droppedDatagrams;
    this.transports.length = 0;
  }

  /**
   * Keeps `p` visible to `idle()` and logs its failure. A count, not a set of promises: the
   * `catch` + `finally` chain per task was 3 promises and a set entry per INVITE and per CDR
   * write (issue #4); `then` with two shared callbacks is one.
   */
  private track(p: Promise<void>): void {
    this.pending += 1;
    p.then(this.settled, this.failed);
  }

  private readonly settled = (): void => {
    this.pending -= 1;
    if (this.pending > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  };

  private readonly failed = (e: unknown): void => {
    this.o.log.error({ err: e }, 'SIP background task failed');
    this.settled();
  };

  /** RFC 3325 trust domain: requests from an allow-listed carrier address are not challenged (E2P_SIP_TRUSTED_CARRIERS). */
  private isTrusted(source: Source): boolean {
    return this.trusted.has(source.remote.address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/iu, ''));
  }

  private onRequest(req: SipRequest, tx: ServerTransaction | undefined, source: Source): void {
    if (tx === undefined) {
      if (req.method === 'ACK') this.router.ack(req); // the ACK of a 2xx
      return;
    }
    // No `respond` closure per request: tsx (esbuild keepNames) names every closure bound to a
    // name with a defineProperty call, at each request (issue #4); `this.reply(tx, …)` instead.
    // RULES §4.4/§4.10: a blocked source or locked account is refused before any other work (in memory).
    const blocked = this.guard.check(req, source.remote.address);
    if (blocked !== undefined) {
      this.o.log.debug({ kind: blocked.kind, key: blocked.key, method: req.method }, 'SIP request refused: blocked');
      this.reply(
        tx,
        buildResponse(req, 403, {
          reason: blocked.kind === 'source' ? 'Forbidden (too many failed authentications from this address)' : 'Forbidden (account locked after failed authentications)',
        }),
      );
      return;
    }
    const early = this.refuse(req);
    if (early !== undefined) {
      this.reply(tx, early);
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        this.reply(
          tx,
          buildResponse(req, 200, {
            headers: [
              { name: 'Allow', value: ALLOWED_METHODS.join(', ') },
              { name: 'Accept', value: 'application/sdp' },
              { name: 'Accept-Encoding', value: 'identity' },
              { name: 'Accept-Language', value: 'en' },
              { name: 'Supported', value: SUPPORTED_EXTENSIONS.join(', ') },
            ],
          }),
        );
        return;
      case 'REGISTER':
        this.track(
          this.registrar.handle(req, source).then((reply) => this.answer(req, tx, reply), (e: unknown) => {
            this.o.log.error({ err: e, callId: req.callId }, 'REGISTER failed');
            this.reply(tx, buildResponse(req, 500, { headers: [{ name: 'Retry-After', value: '5' }] }));
          }),
        );
        return;
      case 'INVITE':
        this.track(
          (this.isTrusted(source) ? this.router.inbound(req, tx, source) : this.router.invite(req, tx, source)).catch((e: unknown) => {
            this.o.log.error({ err: e, callId: req.callId }, 'INVITE failed');
            this.reply(tx, buildResponse(req, 500, { headers: [{ name: 'Retry-After', value: '5' }] }));
          }),
        );
        return;
      case 'CANCEL':
        this.router.cancel(req, (res) => this.reply(tx, res));
        return;
      case 'BYE':
        // The 200 (or 481) as bytes from the BYE's headers, as the registrar's answers (`answer`).
        if (!this.router.bye(req, (status) => this.answer(req, tx, { status }))) this.answer(req, tx, { status: 481 });
        return;
      case 'UPDATE':
      case 'INFO':
        // In-dialog only: relayed to the other leg; anything else does not exist (481).
        if (!this.router.inDialog(req, tx)) this.reply(tx, buildResponse(req, 481));
        return;
      default:
        this.reply(tx, buildResponse(req, 501, { headers: [{ name: 'Allow', value: ALLOWED_METHODS.join(', ') }] }));
    }
  }

  /** Answers with `res` plus `Server`. */
  private reply(tx: ServerTransaction, res: SipResponse): void {
    tx.respond(withServer(res));
  }

  /**
   * A final response of the registrar (or to a BYE), written straight from the request's headers
   * (`responseBytes`: no typed response, no copy of its header list to add `Server`, issue #4);
   * through `buildResponse` where that is not possible.
   */
  private answer(req: SipRequest, tx: ServerTransaction, reply: RegisterReply): void {
    // The registrar's 401 is a challenge: answered statelessly (RFC 3261 §8.2.7), nothing kept 32 s per REGISTER.
    const challenge = reply.status === 401;
    if (tx instanceof ServerNonInviteTransaction) {
      const bytes = responseBytes(req, reply.status, { reason: reply.reason, headers: reply.headers, server: SERVER, ...(challenge ? { toTag: statelessTag(req) } : {}) });
      if (bytes !== undefined) {
        if (challenge) tx.respondStatelessly(reply.status, bytes);
        else tx.respondSerialized(reply.status, bytes);
        return;
      }
    }
    tx.respond(withServer(buildResponse(req, reply.status, reply)));
  }

  /** Checks before any method handling (RFC 3261 §8.2.2, §16.3). */
  private refuse(req: SipRequest): SipResponse | undefined {
    // §16.3 step 3: OPTIONS with Max-Forwards 0 may be answered by the element itself.
    if (req.maxForwards === 0 && req.method !== 'OPTIONS') return buildResponse(req, 483);
    const refusal = checkRequest(req);
    if (refusal !== undefined) return buildResponse(req, refusal.status, { reason: `${reasonPhrase(refusal.status)} (${refusal.reason})` });
    // Parsed header names are canonical (parser.ts): most requests carry neither header and allocate nothing here.
    if (req.method !== 'CANCEL' && req.headers.some((h) => h.name === 'Require' || h.name === 'Proxy-Require')) {
      const required = [...getHeaderValues(req, 'Require'), ...getHeaderValues(req, 'Proxy-Require')]
        .map((t) => t.trim())
        .filter((t) => t !== '' && !SUPPORTED_EXTENSIONS.includes(t.toLowerCase()));
      if (required.length > 0) {
        return buildResponse(req, 420, { headers: [{ name: 'Unsupported', value: [...new Set(required)].join(', ') }] });
      }
    }
    return undefined;
  }
}

/** Adds `Server:` to our responses. */
function withServer(res: SipResponse): SipResponse {
  const headers: Header[] = [...res.headers];
  const at = headers.findIndex((h) => h.name === 'Content-Length');
  headers.splice(at < 0 ? headers.length : at, 0, { name: 'Server', value: SERVER });
  return { ...res, headers };
}

export interface StartSipOptions {
  readonly directory: Directory;
  readonly policy?: CallPolicy;
  readonly onAuthFailure?: (failure: AuthFailure) => void | Promise<void>;
}

/** The name of the call policy's decision time (issue #7), a histogram by `kind`. */
export const POLICY_DECISION_METRIC = 'e2p_sip_policy_decision_seconds';

/**
 * Its bucket bounds in seconds: every 10–25 µs up to 300 µs (a decision takes ≈ 50–300 µs),
 * one at the 1 ms goal, coarser above. A histogram rather than a summary: the buckets
 * of several SIP nodes add up (a summary's quantiles do not), and an observation is a bucket's
 * increment — the summary's t-digest insertion was ≈ 10 µs per call, 1.2 % of the node's main
 * thread in bench:sip (issue #4).
 */
export const POLICY_DECISION_BUCKETS: readonly number[] = [
  0.00001, 0.00002, 0.00003, 0.00004, 0.00005, 0.000075, 0.0001, 0.000125, 0.00015, 0.000175, 0.0002, 0.000225, 0.00025, 0.000275, 0.0003, 0.0004,
  0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The histogram of the policy's decision time in `registry` (created once per registry). */
function decisionMetric(registry: Registry): (kind: DecisionKind, seconds: number) => void {
  const histogram =
    (registry.getSingleMetric(POLICY_DECISION_METRIC) as Histogram<'kind'> | undefined) ??
    new Histogram({
      name: POLICY_DECISION_METRIC,
      help: 'Time the call policy takes to decide a call (issue #7: < 1 ms p99 added to call setup)',
      labelNames: ['kind'] as const,
      buckets: [...POLICY_DECISION_BUCKETS],
      registers: [registry],
    });
  const byKind = { outbound: histogram.labels({ kind: 'outbound' }), inbound: histogram.labels({ kind: 'inbound' }) };
  return (kind, seconds) => byKind[kind].observe(seconds);
}

/** The name of the counter of datagrams dropped by the UDP socket's thread (the SIP thread too far behind). */
export const UDP_DROPPED_METRIC = 'e2p_sip_udp_dropped_datagrams_total';

/** The counter of `server`'s dropped datagrams in `registry`, read at each scrape (the latest server started reports). */
function droppedDatagramsMetric(registry: Registry, server: SipServer): void {
  registry.removeSingleMetric(UDP_DROPPED_METRIC);
  new Counter({
    name: UDP_DROPPED_METRIC,
    help: "UDP datagrams the socket's thread dropped because the SIP thread was more than its backlog bound behind (issue #4)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(server.droppedDatagrams);
    },
  });
}

/**
 * Builds the SIP service from the application context (nonce secret from
 * `E2P_SECRET` or the `settings` table) and starts listening.
 */
export async function startSipServer(
  ctx: { readonly config: Config; readonly db: Db; readonly clock: Clock; readonly log: Logger; readonly metrics?: Registry },
  o: StartSipOptions,
): Promise<{ server: SipServer; udp: Endpoint; tcp: Endpoint }> {
  const nonceSecret = await sipNonceSecret(ctx.db, ctx.config.secret, ctx.clock.now());
  const policy = o.policy === undefined || ctx.metrics === undefined ? o.policy : timedCallPolicy(o.policy, decisionMetric(ctx.metrics));
  const server = new SipServer({
    sip: ctx.config.sip,
    db: ctx.db,
    clock: ctx.clock,
    log: ctx.log.child({ component: 'sip' }),
    directory: o.directory,
    nonceSecret,
    ...(o.onAuthFailure === undefined ? {} : { onAuthFailure: o.onAuthFailure }),
    ...(policy === undefined ? {} : { policy }),
  });
  const bound = await server.listen();
  if (ctx.metrics !== undefined) droppedDatagramsMetric(ctx.metrics, server);
  return { server, ...bound };
}
