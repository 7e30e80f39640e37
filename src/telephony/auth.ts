/**
 * Digest authentication of requests from phones (RFC 3261 §22, RFC 8760)
 * against the `Directory`: challenges with the configured algorithms,
 * `stale=true` for an expired nonce, failed attempts reported as security events
 * (RULES §4.4; the brute-force limits hook in through `onAuthFailure`).
 */
import type { Logger } from 'pino';
import type { Clock } from '../kernel/clock.ts';
import {
  type Challenges,
  type DigestAlgorithm,
  type Header,
  type NonceCountStore,
  type SipRequest,
  type SipResponse,
  type Source,
  type VerifyOptions,
  MemoryNonceCountStore,
  buildResponse,
  getHeaderValues,
  challenger,
  parseAuthorization,
  parseUri,
  uriEquals,
  verify,
} from '../sip/index.ts';
import type { Directory, SipCredentials } from './directory.ts';

/** A failed authentication: a security event. */
export interface AuthFailure {
  readonly at: Date;
  readonly method: string;
  /** The username claimed, when the Authorization header named one. */
  readonly username: string | undefined;
  readonly source: { readonly address: string; readonly port: number; readonly transport: string };
  readonly reason: string;
}

export interface AuthenticatorOptions {
  readonly directory: Directory;
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  readonly nonceSecret: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly nonceCounts?: NonceCountStore;
  /** Nonce lifetime, 5 minutes by default. */
  readonly nonceLifetimeMs?: number;
  /**
   * Called for each failed authentication (wrong password, unknown user, forged
   * or replayed nonce): where the brute-force limits of RULES §4.4 plug in.
   * Errors it throws are logged, never answered.
   */
  readonly onAuthFailure?: (failure: AuthFailure) => void | Promise<void>;
}

export type AuthResult =
  | { readonly kind: 'ok'; readonly credentials: SipCredentials }
  /** Answer with this (401/407 with the challenges). */
  | { readonly kind: 'reply'; readonly response: SipResponse };

/** What `check` decides: the credentials, or the challenge to answer with (its status and headers, no response built). */
export type AuthDecision =
  | { readonly kind: 'ok'; readonly credentials: SipCredentials }
  | { readonly kind: 'challenge'; readonly status: 401 | 407; readonly headers: readonly Header[] };

export class Authenticator {
  private readonly nonceCounts: NonceCountStore;
  /** The nonce options and the lower-cased algorithms, made once (not per request, issue #4). */
  private readonly nonce: { readonly secret: string; readonly now: () => number; readonly lifetimeMs: number };
  private readonly offered: readonly string[];
  /** `verify`'s options and the makers of the four kinds of challenge (401/407, stale or not), made once (issue #4). */
  private readonly verifyOptions: VerifyOptions;
  private readonly challengers: readonly (() => Challenges)[];
  /** The last digest-uri parsed: every REGISTER of a phone (of a bench) names the same one. */
  private lastDigestUri: { readonly text: string; readonly parsed: ReturnType<typeof parseUri> } | undefined;

  constructor(private readonly o: AuthenticatorOptions) {
    this.nonce = { secret: o.nonceSecret, now: () => o.clock.now().getTime(), lifetimeMs: o.nonceLifetimeMs ?? 300_000 };
    this.nonceCounts = o.nonceCounts ?? new MemoryNonceCountStore({ lifetimeMs: this.nonce.lifetimeMs, now: this.nonce.now });
    this.offered = o.algorithms.map((a) => a.toLowerCase());
    this.verifyOptions = { ...this.nonce, realm: o.realm, nonceCounts: this.nonceCounts };
    this.challengers = [false, true].flatMap((proxy) => [false, true].map((stale) => challenger(o.realm, { ...this.nonce, proxy, stale, algorithms: o.algorithms })));
  }

  private parseDigestUri(text: string): ReturnType<typeof parseUri> {
    const last = this.lastDigestUri;
    if (last?.text === text) return last.parsed;
    const parsed = parseUri(text);
    this.lastDigestUri = { text, parsed };
    return parsed;
  }

  /** Authenticates `req`: REGISTER with 401/WWW-Authenticate, other requests with 407/Proxy-Authenticate. */
  async authenticate(req: SipRequest, source: Source): Promise<AuthResult> {
    const d = await this.check(req, source);
    return d.kind === 'ok' ? d : { kind: 'reply', response: buildResponse(req, d.status, { headers: d.headers }) };
  }

  /**
   * `authenticate` without building the challenge's response: the registrar writes its 401
   * straight from the request's headers (`responseBytes`, issue #4).
   */
  async check(req: SipRequest, source: Source): Promise<AuthDecision> {
    const proxy = req.method !== 'REGISTER';
    // One Authorization per realm may come (§22.3): ours is the one to check.
    // Some phones answer a 407 with Authorization instead of Proxy-Authorization: accept both.
    const offered = getHeaderValues(req, proxy ? 'Proxy-Authorization' : 'Authorization');
    const candidates = proxy && offered.length === 0 ? getHeaderValues(req, 'Authorization') : offered;
    // Parsed once here and handed to `verify` as is (issue #4).
    let parsed: ReturnType<typeof parseAuthorization> | undefined;
    for (const value of candidates) {
      const c = parseAuthorization(value);
      if (typeof c === 'string' || c.realm === this.o.realm) {
        parsed = c;
        break;
      }
    }
    if (parsed === undefined) return this.challenge(proxy, false);
    if (typeof parsed === 'string') return this.fail(req, source, undefined, parsed);
    const claimed = parsed.username;
    const digestUri = this.parseDigestUri(parsed.uri);
    if (!digestUri.ok || !uriEquals(digestUri.value, req.uri)) return this.fail(req, source, claimed, 'digest uri does not match the Request-URI');
    if (!this.offered.includes(parsed.algorithm.toLowerCase())) return this.fail(req, source, claimed, `algorithm ${parsed.algorithm} not offered`);
    let credentials: SipCredentials | null = null;
    const result = await verify(
      parsed,
      req.method,
      async (username, algorithm) => {
        credentials = await this.o.directory.findSipCredentials(username);
        if (credentials === null || credentials.realm !== this.o.realm) return undefined;
        return algorithm === 'MD5' ? credentials.ha1Md5 : credentials.ha1Sha256;
      },
      this.verifyOptions,
    );
    if (result.kind === 'stale') return this.challenge(proxy, true);
    if (result.kind === 'invalid') return this.fail(req, source, claimed, result.reason);
    const found = credentials as SipCredentials | null;
    if (found === null) return this.fail(req, source, claimed, 'unknown user');
    return { kind: 'ok', credentials: found };
  }

  /** 401 with WWW-Authenticate (REGISTER) or 407 with Proxy-Authenticate, one challenge per algorithm. */
  private challenge(proxy: boolean, stale: boolean): AuthDecision {
    const c = this.challengers[(proxy ? 2 : 0) + (stale ? 1 : 0)]!();
    const headers: Header[] = c.values.map((value) => ({ name: c.name, value }));
    return { kind: 'challenge', status: proxy ? 407 : 401, headers };
  }

  /** A failed authentication: reported (RULES §4.4), then challenged again. */
  private async fail(req: SipRequest, source: Source, claimed: string | undefined, reason: string): Promise<AuthDecision> {
    await this.reportFailure(req, source, claimed, reason);
    return this.challenge(req.method !== 'REGISTER', false);
  }

  private async reportFailure(req: SipRequest, source: Source, username: string | undefined, reason: string): Promise<void> {
    const failure: AuthFailure = {
      at: this.o.clock.now(),
      method: req.method,
      username,
      source: { address: source.remote.address, port: source.remote.port, transport: source.transport.protocol },
      reason,
    };
    this.o.log.warn({ event: 'sip.auth_failure', ...failure }, 'SIP authentication failed');
    try {
      await this.o.onAuthFailure?.(failure);
    } catch (e) {
      this.o.log.error({ err: e }, 'onAuthFailure hook failed');
    }
  }
}
