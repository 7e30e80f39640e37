/**
 * Header names (case-insensitive, compact forms) and the typed header values
 * the stack itself relies on: Via, name-addr (From, To, Contact, Route,
 * Record-Route), CSeq.
 */
import {
  type Params,
  type Result,
  ParseMemo,
  Scanner,
  fail,
  formatParams,
  isToken,
  DIGIT_CHARS,
  ok,
  parseHostPort,
  parseParams,
  parsePort,
  parseUInt,
  isIPv4,
  splitList,
  trimWs,
} from './syntax.ts';
import { type Uri, formatUri, parseUri } from './uri.ts';
import { isIPv6 } from 'node:net';

const CANONICAL = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
  'Event', 'Expires', 'From', 'Identity', 'Identity-Info', 'In-Reply-To', 'Max-Forwards', 'MIME-Version',
  'Min-Expires', 'Organization', 'Path', 'Priority', 'Proxy-Authenticate', 'Proxy-Authorization',
  'Proxy-Require', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By', 'Reject-Contact', 'Reply-To',
  'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'RAck', 'Server', 'Service-Route',
  'Session-Expires', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported',
  'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];
const BY_LOWER = new Map(CANONICAL.map((n) => [n.toLowerCase(), n]));
const COMPACT: Record<string, string> = {
  a: 'Accept-Contact', b: 'Referred-By', c: 'Content-Type', d: 'Request-Disposition', e: 'Content-Encoding',
  f: 'From', i: 'Call-ID', j: 'Reject-Contact', k: 'Supported', l: 'Content-Length', m: 'Contact',
  n: 'Identity-Info', o: 'Event', r: 'Refer-To', s: 'Subject', t: 'To', u: 'Allow-Events', v: 'Via',
  x: 'Session-Expires', y: 'Identity',
};

/** The usual spellings (canonical, lower case, compact forms in either case): one Map lookup on the hot path. */
const EXACT = new Map<string, string>();
for (const n of CANONICAL) EXACT.set(n, n).set(n.toLowerCase(), n);
for (const [c, n] of Object.entries(COMPACT)) EXACT.set(c, n).set(c.toUpperCase(), n);

/** One step of the hash of a header name, character by character (a caller scanning the name can compute it on the way). */
export const nameHashStep = (h: number, code: number): number => (Math.imul(h, 31) + code) | 0;
const nameHash = (text: string, start: number, end: number): number => {
  let h = 0;
  for (let i = start; i < end; i++) h = nameHashStep(h, text.charCodeAt(i));
  return h;
};
/** Canonical names by the hash of their canonical and lower-case spellings (a hit is confirmed character by character). */
const BY_HASH = new Map<number, string>();
for (const n of CANONICAL) for (const spelling of [n, n.toLowerCase()]) BY_HASH.set(nameHash(spelling, 0, spelling.length), n);

/**
 * `canonicalName(text.slice(start, end))` without cutting the string when the name
 * is a compact form or written in its canonical or lower-case spelling (the usual cases).
 */
export function canonicalNameAt(text: string, start: number, end: number, hash = nameHash(text, start, end)): string {
  const length = end - start;
  if (length === 1) {
    const long = COMPACT[String.fromCharCode(text.charCodeAt(start) | 0x20)];
    if (long !== undefined) return long;
  } else {
    const known = BY_HASH.get(hash);
    if (known !== undefined && known.length === length && sameLetters(text, start, known)) return known;
  }
  return canonicalName(text.slice(start, end));
}

/** `text` at `start` spells `name` exactly or in lower case. */
function sameLetters(text: string, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = text.charCodeAt(start + i);
    const n = name.charCodeAt(i);
    if (c !== n && !(n >= 0x41 && n <= 0x5a && c === (n | 0x20))) return false;
  }
  return true;
}

/** The long, canonical spelling of a header name; unknown names are returned as written. */
export function canonicalName(name: string): string {
  const known = EXACT.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  return (lower.length === 1 ? COMPACT[lower] : undefined) ?? BY_LOWER.get(lower) ?? name;
}

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1). */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'accept', 'accept-encoding',
  'accept-language', 'allow', 'allow-events', 'supported', 'require', 'proxy-require', 'unsupported',
  'content-encoding', 'content-language', 'in-reply-to', 'alert-info', 'call-info', 'error-info', 'warning', 'reason',
]);
export const isListHeader = (name: string): boolean => LIST_HEADERS.has(canonicalName(name).toLowerCase());

/** Headers that may appear at most once (RFC 3261 §7.3.1, §20). */
export const SINGLE_HEADERS = ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Expires', 'Content-Type'];

// ---------------------------------------------------------------- Via

export interface Via {
  readonly protocol: string;
  readonly version: string;
  /** Upper-cased transport token (UDP, TCP, TLS, SCTP, WS, WSS, or an unknown one). */
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** `rport` present without a value is `true` (RFC 3581 request), with a value the port. */
  readonly rport: number | true | undefined;
  readonly maddr: string | undefined;
  readonly ttl: number | undefined;
}

/** One via-parm. */
export function parseVia(value: string): Result<Via> {
  return parseUsualVia(value) ?? parseAnyVia(value);
}

const isUpperCode = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isIPv4Code = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2e;

/**
 * The usual via-parm — `SIP/2.0/` and an upper-case transport, one SP, an IPv4 address, an
 * optional port written right after its colon, then parameters or nothing (every Via of a
 * call in bench:sip, issue #4) — read by index: no scanner, no slice per protocol part and no
 * upper-casing. Undefined for any other text (and for an invalid port): `parseAnyVia` then
 * reads it, with the same result for what this accepts (headers.test.ts compares them).
 */
function parseUsualVia(value: string): Result<Via> | undefined {
  if (!value.startsWith('SIP/2.0/')) return undefined;
  let i = 8;
  while (isUpperCode(value.charCodeAt(i))) i++;
  if (i === 8 || value.charCodeAt(i) !== 0x20) return undefined;
  const transport = value.slice(8, i);
  const hostStart = ++i;
  while (isIPv4Code(value.charCodeAt(i))) i++;
  const host = value.slice(hostStart, i);
  if (!isIPv4(host)) return undefined;
  let port: number | undefined;
  if (value.charCodeAt(i) === 0x3a) {
    const portStart = ++i;
    while (i < value.length && value.charCodeAt(i) >= 0x30 && value.charCodeAt(i) <= 0x39) i++;
    port = parsePort(value.slice(portStart, i));
    if (port === undefined) return undefined;
  }
  if (i < value.length && value.charCodeAt(i) !== 0x3b) return undefined;
  const sc = new Scanner(value);
  sc.pos = i;
  return viaOf('SIP', '2.0', transport, host, port, sc);
}

/** Any via-parm, by the scanner (exported for the tests comparing it with the usual path). */
export function parseAnyVia(value: string): Result<Via> {
  const sc = new Scanner(value);
  sc.skipWs();
  const protocol = sc.token();
  if (protocol === undefined || !sc.eat('/')) return fail('malformed Via protocol');
  const version = sc.token();
  if (version === undefined || !sc.eat('/')) return fail('malformed Via protocol version');
  const transport = sc.token();
  if (transport === undefined) return fail('malformed Via transport');
  if (protocol.toUpperCase() !== 'SIP' || version !== '2.0') return fail(`unsupported Via protocol ${protocol}/${version}`);
  const beforeHost = sc.pos;
  sc.skipWs();
  if (sc.pos === beforeHost) return fail('missing whitespace before Via sent-by');
  const hostText = sc.peek() === '[' ? sc.until(']') + (sc.eat(']') ? ']' : '') : (sc.token() ?? '');
  let portText: string | undefined;
  if (sc.eat(':')) portText = sc.takeIn(DIGIT_CHARS);
  const hp = parseHostPort(hostText);
  if (!hp.ok) return hp;
  const port = portText === undefined ? undefined : parsePort(portText);
  if (portText !== undefined && port === undefined) return fail('invalid Via port');
  return viaOf(protocol.toUpperCase(), version, transport.toUpperCase(), hp.value.host, port, sc);
}

/** The Via of its sent-protocol and sent-by, with its parameters read from `sc` (checked: received, rport, ttl, branch). */
function viaOf(protocol: string, version: string, transport: string, host: string, port: number | undefined, sc: Scanner): Result<Via> {
  const params = parseParams(sc);
  if (!params.ok) return fail(`Via: ${params.error}`);
  const p = params.value;
  const received = p.get('received') ?? undefined;
  const bare = received?.replace(/^\[(.*)\]$/u, '$1');
  if (bare !== undefined && !(isIPv4(bare) || isIPv6(bare))) return fail('invalid Via received');
  const rportRaw = p.get('rport');
  let rport: number | true | undefined;
  if (rportRaw === null) rport = true;
  else if (rportRaw !== undefined) {
    rport = parsePort(rportRaw);
    if (rport === undefined) return fail('invalid Via rport');
  }
  const ttlRaw = p.get('ttl') ?? undefined;
  const ttl = ttlRaw === undefined ? undefined : parseUInt(ttlRaw, 255);
  if (ttlRaw !== undefined && ttl === undefined) return fail('invalid Via ttl');
  const branch = p.get('branch');
  if (branch === null) return fail('Via branch without value');
  const maddr = p.get('maddr') ?? undefined;
  return ok({
    protocol,
    version,
    transport,
    host,
    port,
    params: p,
    branch,
    received: bare,
    rport,
    maddr,
    ttl,
  });
}

export function formatVia(v: Pick<Via, 'transport' | 'host' | 'port' | 'params'>): string {
  return `SIP/2.0/${v.transport} ${v.host}${v.port === undefined ? '' : `:${v.port}`}${formatParams(v.params)}`;
}

// ---------------------------------------------------------------- name-addr

export interface NameAddr {
  /** Display name as written (a quoted-string keeps its quotes), undefined when absent. */
  readonly displayName: string | undefined;
  readonly uri: Uri;
  /** Header parameters (after the URI), e.g. tag, expires, q. */
  readonly params: Params;
}

/** `( name-addr / addr-spec ) *( SEMI generic-param )`; a text parsed lately gives the same (read-only) value (`ParseMemo`). */
export const parseNameAddr = (value: string): Result<NameAddr> => nameAddrs.get(value);

function parseNameAddrText(value: string): Result<NameAddr> {
  const sc = new Scanner(value);
  sc.skipWs();
  let displayName: string | undefined;
  let uriText: string;
  const lt = findAngle(value);
  if (lt !== undefined) {
    if (sc.peek() === '"') {
      displayName = sc.quoted();
      if (displayName === undefined) return fail('unterminated quoted display name');
    } else {
      const words = trimWs(value.slice(sc.pos, lt));
      if (words !== '') {
        if (!words.split(/[ \t]+/u).every(isToken)) return fail(`invalid display name "${words}"`);
        displayName = words;
      }
      sc.pos = lt;
    }
    sc.skipWs();
    if (sc.peek() !== '<' || sc.pos !== lt) return fail('garbage between display name and <');
    const gt = value.indexOf('>', lt);
    if (gt < 0) return fail('missing >');
    uriText = value.slice(lt + 1, gt);
    sc.pos = gt + 1;
  } else {
    if (sc.peek() === '"') return fail('unterminated quoted display name');
    uriText = sc.text.slice(sc.pos, addrSpecEnd(value, sc.pos));
    sc.pos += uriText.length;
    if (uriText.includes('?') || uriText.includes(',')) return fail('URI with "?" or "," must be enclosed in <>');
  }
  if (uriText === '' || /\s/u.test(uriText)) return fail('invalid URI in name-addr');
  const uri = parseUri(uriText);
  if (!uri.ok) return uri;
  const params = parseParams(sc);
  if (!params.ok) return params;
  return ok({ displayName, uri: uri.value, params: params.value });
}

/** End of an addr-spec starting at `from`: the first `;`, SP or HTAB, or the end of the value. */
function addrSpecEnd(value: string, from: number): number {
  let i = from;
  for (let c = value.charCodeAt(i); i < value.length && c !== 0x3b && c !== 0x20 && c !== 0x09; c = value.charCodeAt(++i));
  return i;
}

/** Index of the `<` opening the URI of a name-addr, outside quotes; undefined for an addr-spec. */
function findAngle(value: string): number | undefined {
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) return i;
    else if (c === 0x3b) return undefined;
  }
  return undefined;
}

export function formatNameAddr(n: NameAddr): string {
  const name = n.displayName === undefined ? '' : `${n.displayName} `;
  return `${name}<${formatUri(n.uri)}>${formatParams(n.params)}`;
}

const nameAddrs = new ParseMemo(parseNameAddrText);

/** A Contact value: `*` or a name-addr with its parameters (expires, q...). */
export type Contact = { readonly star: true } | (NameAddr & { readonly star: false });

export function parseContacts(value: string): Result<Contact[]> {
  if (trimWs(value) === '*') return ok([{ star: true }]);
  return parseNameAddrList(value, (n) => ({ displayName: n.displayName, uri: n.uri, params: n.params, star: false as const }));
}

/** A comma-separated list of name-addrs (Contact, Route, Record-Route...). */
export function parseNameAddrList<T = NameAddr>(value: string, map: (n: NameAddr) => T = (n) => n as T): Result<T[]> {
  const parts = splitList(value);
  if (parts === undefined) return fail('unbalanced quotes or <>');
  const out: T[] = [];
  for (const part of parts) {
    const n = parseNameAddr(part);
    if (!n.ok) return n;
    const q = n.value.params.get('q');
    if (q !== undefined && (q === null || !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/u.test(q))) return fail('invalid q value');
    out.push(map(n.value));
  }
  return ok(out);
}

// ---------------------------------------------------------------- CSeq and numbers

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export const MAX_CSEQ = 2 ** 31 - 1;

/** `1*DIGIT LWS Method`; a text parsed lately gives the same (read-only) value (`ParseMemo`: "1 INVITE", "2 INVITE", "3 BYE"…). */
export const parseCSeq = (value: string): Result<CSeq> => cseqs.get(value);

function parseCSeqText(value: string): Result<CSeq> {
  const m = /^[ \t]*(\d+)[ \t]+(\S+)[ \t]*$/u.exec(value);
  if (!m) return fail('malformed CSeq');
  const seq = parseUInt(m[1]!, MAX_CSEQ);
  if (seq === undefined) return fail('CSeq number out of range');
  if (!isToken(m[2]!)) return fail('invalid CSeq method');
  return ok({ seq, method: m[2]! });
}

const cseqs = new ParseMemo(parseCSeqText);

/** Delta-seconds (Expires, expires param): overlarge values count as 2^32-1 (RFC 3261 §10.2.1). */
export function parseDeltaSeconds(value: string): number | undefined {
  const t = trimWs(value);
  if (!/^\d+$/u.test(t)) return undefined;
  return parseUInt(t, 2 ** 32 - 1) ?? 2 ** 32 - 1;
}
