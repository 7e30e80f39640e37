/**
 * Digest authentication, server side (RFC 8760 for SIP, RFC 7616, RFC 2617):
 * challenges (SHA-256 first, then MD5, qop="auth"), stateless nonces
 * (timestamp + HMAC over timestamp and realm), verification of Authorization /
 * Proxy-Authorization with nonce-count replay protection.
 */
import { type KeyObject, createHmac, createSecretKey, hash as oneShotHash, timingSafeEqual } from 'node:crypto';
import { evictionBatch, forgetOldest } from '../kernel/bounded.ts';
import { randomInto } from '../kernel/random.ts';
import { isTokenCode, quote, splitList, trimWs, unquote } from './syntax.ts';

export type DigestAlgorithm = 'SHA-256' | 'MD5';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

// The one-shot `crypto.hash` costs a third of createHash().update().digest() (issue #4: three hashes per REGISTER).
const hash = (algorithm: DigestAlgorithm, text: string): string => oneShotHash(algorithm === 'MD5' ? 'md5' : 'sha256', text, 'hex');

/** H(username:realm:password), what a credential store keeps per algorithm. */
export const ha1 = (algorithm: DigestAlgorithm, user: string, realm: string, password: string): string =>
  hash(algorithm, `${user}:${realm}:${password}`);

/** The request-digest for qop=auth (RFC 7616 §3.4.1). */
export function digestResponse(o: {
  algorithm: DigestAlgorithm;
  ha1: string;
  nonce: string;
  nc: string;
  cnonce: string;
  qop: 'auth';
  method: string;
  uri: string;
}): string {
  const ha2 = hash(o.algorithm, `${o.method}:${o.uri}`);
  return hash(o.algorithm, `${o.ha1}:${o.nonce}:${o.nc}:${o.cnonce}:${o.qop}:${ha2}`);
}

// ---------------------------------------------------------------- nonces

export interface NonceOptions {
  /** HMAC key, shared by every node that may receive the answer to a challenge. */
  readonly secret: string | Uint8Array;
  /** How long a nonce stays fresh: 5 minutes by default. */
  readonly lifetimeMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

const TAG_BYTES = 16;
/** Random bytes in every nonce: two challenges in the same millisecond never share a nonce (nor its nonce-counts). */
const SALT_BYTES = 8;
const HEAD_BYTES = 8 + SALT_BYTES;
/**
 * The HMAC key of a secret given as text, imported once: `createHmac` with a string key
 * encodes and imports it again on every call (two HMACs per REGISTER, issue #4).
 */
const keyOf = (secret: string | Uint8Array): string | Uint8Array | KeyObject => {
  if (typeof secret !== 'string') return secret;
  if (lastKey?.secret !== secret) lastKey = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  return lastKey.key;
};
let lastKey: { readonly secret: string; readonly key: KeyObject } | undefined;
const mac = (secret: string | Uint8Array, data: string): Buffer => createHmac('sha256', keyOf(secret)).update(data).digest();

/** Nonce = base64url(timestamp ‖ salt ‖ HMAC(secret, timestamp ‖ salt ‖ realm)): checkable by any node, without state. */
export function makeNonce(realm: string, o: NonceOptions): string {
  const raw = Buffer.allocUnsafe(HEAD_BYTES + TAG_BYTES);
  const ms = Math.max(0, Math.floor((o.now ?? Date.now)()));
  raw.writeUInt32BE(Math.floor(ms / 2 ** 32), 0);
  raw.writeUInt32BE(ms % 2 ** 32, 4);
  randomInto(raw, 8, SALT_BYTES); // the salt, from the shared random pool (one system call per 4 KiB)
  mac(o.secret, `${raw.toString('hex', 0, HEAD_BYTES)}|${realm}`).copy(raw, HEAD_BYTES, 0, TAG_BYTES);
  const nonce = raw.toString('base64url');
  issued.remember(nonce, realm, o.secret);
  return nonce;
}

/**
 * The nonces this process made lately, with their realm and secret (the last 4 096 to 8 192,
 * two generations): the answer to a challenge names the nonce this node just made, whose tag
 * `checkNonce` then need not compute again — the nonce is authentic by construction, only its
 * age is read (issue #4: an HMAC per call's INVITE and per REGISTER). A nonce made elsewhere
 * (another node, an older one, another secret or realm) is checked by its HMAC as before.
 */
class IssuedNonces {
  private recent = new Map<string, { readonly realm: string; readonly secret: string | Uint8Array }>();
  private older = new Map<string, { readonly realm: string; readonly secret: string | Uint8Array }>();

  constructor(private readonly size: number) {}

  remember(nonce: string, realm: string, secret: string | Uint8Array): void {
    if (this.recent.size >= this.size) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(nonce, { realm, secret });
  }

  made(nonce: string, realm: string, secret: string | Uint8Array): boolean {
    const e = this.recent.get(nonce) ?? this.older.get(nonce);
    return e !== undefined && e.realm === realm && e.secret === secret;
  }
}
const issued = new IssuedNonces(4096);

type NonceCheck = 'fresh' | 'expired' | 'forged';

function checkNonce(nonce: string, realm: string, o: NonceOptions): NonceCheck {
  if (!/^[A-Za-z0-9_-]+$/u.test(nonce)) return 'forged';
  const raw = Buffer.from(nonce, 'base64url');
  if (raw.length !== HEAD_BYTES + TAG_BYTES) return 'forged';
  const head = raw.subarray(0, HEAD_BYTES);
  if (!issued.made(nonce, realm, o.secret)) {
    const expected = mac(o.secret, `${head.toString('hex')}|${realm}`).subarray(0, TAG_BYTES);
    if (!timingSafeEqual(raw.subarray(HEAD_BYTES), expected)) return 'forged';
  }
  const age = (o.now ?? Date.now)() - (head.readUInt32BE(0) * 2 ** 32 + head.readUInt32BE(4));
  if (age < -30_000) return 'forged';
  return age > (o.lifetimeMs ?? 300_000) ? 'expired' : 'fresh';
}

/** The opaque value of a realm: derived from the secret, so any node can check it. */
const opaqueFor = (realm: string, o: NonceOptions): string => {
  // Computed once per secret and realm (an HMAC in every challenge and every answer before, issue #4).
  if (typeof o.secret !== 'string') return mac(o.secret, `opaque|${realm}`).subarray(0, 12).toString('base64url');
  const key = `${realm}\n${o.secret}`;
  let opaque = opaques.get(key);
  if (opaque === undefined) {
    opaque = mac(o.secret, `opaque|${realm}`).subarray(0, 12).toString('base64url');
    if (opaques.size >= 64) opaques.clear();
    opaques.set(key, opaque);
  }
  return opaque;
};
const opaques = new Map<string, string>();

// ---------------------------------------------------------------- challenges

export interface ChallengeOptions extends NonceOptions {
  /** Proxy-Authenticate (407) instead of WWW-Authenticate (401). */
  readonly proxy?: boolean;
  /** The previous nonce was valid but expired (RFC 7616 §3.3). */
  readonly stale?: boolean;
  /**
   * Algorithms offered, in order: SHA-256 then MD5 by default (RFC 8760 §2.4).
   * Some clients (sipp, old phones) only read the first challenge and know MD5.
   */
  readonly algorithms?: readonly DigestAlgorithm[];
}

export interface Challenges {
  readonly name: 'WWW-Authenticate' | 'Proxy-Authenticate';
  /** One value per algorithm offered, SHA-256 first by default. */
  readonly values: readonly string[];
}

export function makeChallenges(realm: string, o: ChallengeOptions): Challenges {
  return challenger(realm, o)();
}

/**
 * A maker of challenges for one realm and set of options, each call with a fresh nonce: the
 * text around the nonce (quoting, opaque, one line per algorithm) is built once, not in every
 * 401/407 (issue #4) — `Digest realm="…", nonce="` + nonce + `", opaque="…", algorithm=…,
 * qop="auth"[, stale=true]`.
 */
export function challenger(realm: string, o: ChallengeOptions): () => Challenges {
  const name = o.proxy === true ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  const opaque = opaqueFor(realm, o);
  const prefix = `Digest realm=${quote(realm)}, nonce="`;
  const suffixes = (o.algorithms ?? DIGEST_ALGORITHMS).map((algorithm) => `", opaque="${opaque}", algorithm=${algorithm}, qop="auth"${o.stale === true ? ', stale=true' : ''}`);
  return () => {
    const nonce = makeNonce(realm, o);
    return { name, values: suffixes.map((suffix) => `${prefix}${nonce}${suffix}`) };
  };
}

// ---------------------------------------------------------------- credentials

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: string;
  readonly qop: string | undefined;
  readonly nc: string | undefined;
  readonly cnonce: string | undefined;
  readonly opaque: string | undefined;
  readonly userhash: boolean;
}

/**
 * Parses an Authorization or Proxy-Authorization value (quoted and token parameters).
 * The last value parsed is remembered: one REGISTER's header is read by the brute-force
 * guard, the authenticator and `verify` in turn (issue #4). The result is immutable.
 */
export function parseAuthorization(value: string): DigestCredentials | string {
  if (value !== lastParsed.value) lastParsed = { value, parsed: parseAuthorizationText(value) };
  return lastParsed.parsed;
}
let lastParsed: { readonly value: string; readonly parsed: DigestCredentials | string } = { value: '', parsed: 'not a Digest authorization' };

function parseAuthorizationText(value: string): DigestCredentials | string {
  return scanAuthorization(value) ?? parseAuthorizationGeneral(value);
}

const isWsCode = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * The usual Authorization in one pass, without regex, list split or unquoting (issue #4: ≈ 8 µs
 * per REGISTER before): `Digest` then `name=token` or `name="text"` (no backslash) separated
 * by commas, every required parameter present, none twice. Anything else — escapes, empty
 * elements, a missing or repeated parameter, stray characters — gives undefined and
 * `parseAuthorizationGeneral` decides (and names the error): both give the same result
 * wherever this one gives one (digest.test.ts).
 */
function scanAuthorization(value: string): DigestCredentials | undefined {
  const n = value.length;
  let i = 0;
  while (i < n && isWsCode(value.charCodeAt(i))) i++;
  if (i + 6 >= n || value.slice(i, i + 6).toLowerCase() !== 'digest' || !isWsCode(value.charCodeAt(i + 6))) return undefined;
  i += 6;
  const p = new Map<string, string>();
  for (;;) {
    while (i < n && isWsCode(value.charCodeAt(i))) i++;
    const nameStart = i;
    while (i < n && isTokenCode(value.charCodeAt(i))) i++;
    if (i === nameStart) return undefined;
    const name = value.slice(nameStart, i).toLowerCase();
    while (i < n && isWsCode(value.charCodeAt(i))) i++;
    if (value.charCodeAt(i) !== 0x3d) return undefined; // =
    i++;
    while (i < n && isWsCode(value.charCodeAt(i))) i++;
    let v: string;
    if (value.charCodeAt(i) === 0x22) {
      const close = value.indexOf('"', i + 1);
      if (close < 0) return undefined;
      v = value.slice(i + 1, close);
      if (v.indexOf('\\') >= 0) return undefined;
      i = close + 1;
    } else {
      const start = i;
      while (i < n && isTokenCode(value.charCodeAt(i))) i++;
      if (i === start) return undefined;
      v = value.slice(start, i);
    }
    if (p.has(name)) return undefined;
    p.set(name, v);
    while (i < n && isWsCode(value.charCodeAt(i))) i++;
    if (i === n) break;
    if (value.charCodeAt(i) !== 0x2c) return undefined; // ,
    i++;
  }
  return credentialsOf(p);
}

/** The credentials from the parameters (names lower-cased, values unquoted); undefined when a required one is missing. */
function credentialsOf(p: ReadonlyMap<string, string>): DigestCredentials | undefined {
  const username = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return undefined;
  return Object.freeze({
    username,
    realm,
    nonce,
    uri,
    response,
    algorithm: p.get('algorithm') ?? 'MD5',
    qop: p.get('qop'),
    nc: p.get('nc'),
    cnonce: p.get('cnonce'),
    opaque: p.get('opaque'),
    userhash: p.get('userhash')?.toLowerCase() === 'true',
  });
}

/** Any Authorization value: the parameters split as a list (quotes, escapes, empty elements), or why it is refused. Exported for tests. */
export function parseAuthorizationGeneral(value: string): DigestCredentials | string {
  const m = /^[ \t]*Digest[ \t]+(.*)$/isu.exec(value);
  if (!m) return 'not a Digest authorization';
  const parts = splitList(m[1]!);
  if (parts === undefined) return 'unbalanced quotes';
  const p = new Map<string, string>();
  for (const part of parts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return `malformed parameter "${part.slice(0, 40)}"`;
    const name = trimWs(part.slice(0, eq)).toLowerCase();
    const raw = trimWs(part.slice(eq + 1));
    if (p.has(name)) return `duplicate parameter ${name}`;
    if (raw.startsWith('"') && (raw.length < 2 || !raw.endsWith('"'))) return `unterminated value of ${name}`;
    p.set(name, unquote(raw));
  }
  return credentialsOf(p) ?? 'missing username, realm, nonce, uri or response';
}

// ---------------------------------------------------------------- verification

/** Remembers the highest nonce-count seen per nonce; in memory per node (a shared store can implement it later). */
export interface NonceCountStore {
  /** Records `nc` for `nonce`; false when it does not exceed the last one recorded. */
  advance(nonce: string, nc: number): boolean | Promise<boolean>;
}

export interface MemoryNonceCountOptions {
  /** Most nonces remembered (100 000 by default): past it the oldest tenth is forgotten. */
  readonly maxEntries?: number;
  /** The nonce lifetime (5 minutes by default): a nonce is forgotten once it cannot be fresh any more. */
  readonly lifetimeMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

/** How far in the future a nonce's timestamp may be and still be accepted (another node's clock): see checkNonce. */
const CLOCK_SKEW_MS = 30_000;

/**
 * The nonce-counts of this node, in two generations of `lifetime + skew` each: an entry is
 * dropped at the second rotation after its last use, when its nonce is already stale
 * (`verify` answers stale=true before asking the store), so replay protection holds while
 * the memory stays bounded by the nonces used within two lifetimes. The key is a number
 * taken from the nonce's random salt — never the nonce string itself: that one is a slice
 * of the whole received message, which the map would keep alive (~0.6 KiB per REGISTER,
 * issue #4). Two nonces with the same 53 salt bits would only make a phone authenticate again.
 */
export class MemoryNonceCountStore implements NonceCountStore {
  private current = new Map<number, number>();
  private previous = new Map<number, number>();
  private rotatedAt: number;
  private readonly maxEntries: number;
  private readonly periodMs: number;
  private readonly now: () => number;

  constructor(o: MemoryNonceCountOptions | number = {}) {
    const opts = typeof o === 'number' ? { maxEntries: o } : o;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.periodMs = (opts.lifetimeMs ?? 300_000) + CLOCK_SKEW_MS;
    this.now = opts.now ?? Date.now;
    this.rotatedAt = this.now();
  }

  /** How many nonces are remembered. */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  advance(nonce: string, nc: number): boolean {
    const now = this.now();
    if (now - this.rotatedAt >= this.periodMs) {
      this.previous = now - this.rotatedAt >= 2 * this.periodMs ? new Map<number, number>() : this.current;
      this.current = new Map();
      this.rotatedAt = now;
    }
    const key = nonceKey(nonce);
    const last = this.current.get(key) ?? this.previous.get(key);
    if (last !== undefined && nc <= last) return false;
    this.previous.delete(key);
    this.current.delete(key);
    this.current.set(key, nc);
    if (this.size > this.maxEntries) {
      // The oldest first, a tenth of the bound at once (`forgetOldest`: one at a time cost ≈ 11 µs per call at the bound).
      const batch = evictionBatch(this.maxEntries);
      const fromPrevious = Math.min(batch, this.previous.size);
      forgetOldest(this.previous, fromPrevious);
      forgetOldest(this.current, batch - fromPrevious);
    }
    return true;
  }
}

/** 53 bits of a nonce: its salt when it is one of ours (base64url characters 11–19), else a hash of the text. */
function nonceKey(nonce: string): number {
  if (nonce.length === 43) {
    const raw = Buffer.from(nonce.slice(0, 22), 'base64url'); // timestamp ‖ salt
    if (raw.length === HEAD_BYTES) return (raw.readUInt32BE(8) & 0x1f_ffff) * 2 ** 32 + raw.readUInt32BE(12);
  }
  const h = oneShotHash('sha256', nonce, 'buffer');
  return (h.readUInt32BE(0) & 0x1f_ffff) * 2 ** 32 + h.readUInt32BE(4);
}

export type VerifyResult =
  | { readonly kind: 'ok'; readonly username: string; readonly algorithm: DigestAlgorithm }
  | { readonly kind: 'stale' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** HA1 of a user for an algorithm (see `ha1`), undefined for an unknown user. */
export type Ha1Lookup = (username: string, algorithm: DigestAlgorithm) => string | undefined | Promise<string | undefined>;

export interface VerifyOptions extends NonceOptions {
  readonly realm: string;
  readonly nonceCounts: NonceCountStore;
  /** When given, the digest-uri must equal it (RFC 7616 §3.4.6). */
  readonly requestUri?: string;
}

const sameHex = (a: string, b: string): boolean => {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
};

/** A function of the module, not a closure in `verify`: tsx names each closure it creates (issue #4). */
const invalid = (reason: string): VerifyResult => ({ kind: 'invalid', reason });

/** Checks an Authorization value, as received or already parsed by `parseAuthorization`. */
export async function verify(
  authorization: string | DigestCredentials,
  method: string,
  lookup: Ha1Lookup,
  o: VerifyOptions,
): Promise<VerifyResult> {
  const c = typeof authorization === 'string' ? parseAuthorization(authorization) : authorization;
  if (typeof c === 'string') return invalid(c);
  const algorithm = DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === c.algorithm.toLowerCase());
  if (algorithm === undefined) return invalid(`unsupported algorithm ${c.algorithm}`);
  if (c.userhash) return invalid('userhash is not supported');
  if (c.realm !== o.realm) return invalid('wrong realm');
  if (c.qop?.toLowerCase() !== 'auth') return invalid('qop=auth is required');
  if (c.nc === undefined || !/^[0-9a-fA-F]{8}$/u.test(c.nc) || c.cnonce === undefined || c.cnonce === '') return invalid('missing or malformed nc or cnonce');
  if (c.opaque !== undefined && c.opaque !== opaqueFor(o.realm, o)) return invalid('wrong opaque');
  if (o.requestUri !== undefined && c.uri !== o.requestUri) return invalid('digest uri does not match the Request-URI');
  const nonce = checkNonce(c.nonce, o.realm, o);
  if (nonce === 'forged') return invalid('nonce not issued here');
  const secret = await lookup(c.username, algorithm);
  if (secret === undefined) return invalid('unknown user');
  const expected = digestResponse({ algorithm, ha1: secret, nonce: c.nonce, nc: c.nc, cnonce: c.cnonce, qop: 'auth', method, uri: c.uri });
  if (!sameHex(expected, c.response)) return invalid('wrong response');
  if (nonce === 'expired') return { kind: 'stale' };
  if (!(await o.nonceCounts.advance(c.nonce, parseInt(c.nc, 16)))) return invalid('nonce-count replayed');
  return { kind: 'ok', username: c.username, algorithm };
}
