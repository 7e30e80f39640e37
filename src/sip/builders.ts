/**
 * Building messages: responses from a request (RFC 3261 §8.2.6), requests for a
 * UAC or the B2BUA (§8.1.1), answers to unparsable requests, and the random
 * identifiers (branch, tag, Call-ID).
 */
import { randomHex } from '../kernel/random.ts';
import { MAX_CSEQ, type NameAddr, type Via, formatNameAddr, formatVia } from './headers.ts';
import { type Header, MAGIC_COOKIE, type SipRequest, type SipResponse, fromTag } from './message.ts';
import { type ParseError, typedContacts, typedHeaders } from './parser.ts';
import { isToken, splitList } from './syntax.ts';
import type { Uri } from './uri.ts';

/**
 * `bytes` (≤ 4096) fresh random bytes as lowercase hexadecimal, from the shared pool
 * (kernel/random.ts). Not base64url: a token with upper-case letters can spell a header's
 * name, and peers that find a header by searching the raw message for its name take it for
 * that header — sipp 3.6 reads the CSeq method after the message's first "CSeq", so a To tag
 * such as `I4CSeqqGUjY` (one 200 in ≈ 2 million) left a REGISTER unanswered in bench:sip
 * (issue #4). Every header name has an upper-case letter (and compact forms a colon).
 */
export const randomToken = (bytes: number): string => randomHex(bytes);

/** A new RFC 3261 branch: the magic cookie and 96 random bits. */
export const newBranch = (): string => `${MAGIC_COOKIE}${randomToken(12)}`;
/** A new From/To tag (64 random bits, RFC 3261 §19.3 asks for at least 32). */
export const newTag = (): string => randomToken(8);
/**
 * The To tag of a stateless answer (RFC 3261 §8.2.7: "generated … in a manner that will generate
 * the same tag for the same request consistently"): 64 bits of two FNV-1a hashes of the
 * request's Call-ID, From tag, top Via branch and CSeq — a retransmission gets the tag of the
 * first answer, another request another tag. Not secret: a tag only tells dialogs apart.
 */
export function statelessTag(req: SipRequest): string {
  const text = `${req.callId}\n${fromTag(req) ?? ''}\n${req.via[0]?.branch ?? ''}\n${req.cseq.seq} ${req.cseq.method}`;
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}
/** A new Call-ID, optionally `@host`. */
export const newCallId = (host?: string): string => `${randomToken(16)}${host === undefined ? '' : `@${host}`}`;

export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 301: 'Moved Permanently', 302: 'Moved Temporarily', 380: 'Alternative Service',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief',
  429: 'Too Many Requests', 480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected', 483: 'Too Many Hops', 484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending', 493: 'Undecipherable',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large', 600: 'Busy Everywhere',
  603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export const reasonPhrase = (status: number): string => REASON_PHRASES[status] ?? REASON_PHRASES[Math.floor(status / 100) * 100] ?? 'Unknown';

const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export interface Content {
  readonly type: string;
  readonly body: Uint8Array;
}

export interface ResponseOptions {
  readonly reason?: string;
  /** The To tag to add when the request had none (a new one by default; never for 100). */
  readonly toTag?: string;
  /** Extra headers, placed after the copied ones. */
  readonly headers?: readonly Header[];
  readonly content?: Content;
}

function withBody(headers: Header[], content: Content | undefined): { headers: Header[]; body: Uint8Array } {
  if (content !== undefined) headers.push({ name: 'Content-Type', value: content.type });
  const body = content === undefined ? new Uint8Array(0) : new Uint8Array(content.body);
  headers.push({ name: 'Content-Length', value: String(body.length) });
  return { headers, body };
}

/**
 * Header names whose typed views `typedHeaders` builds or counts, but Contact: extra headers
 * of a response naming none of them leave the typed views of the copied headers as they were
 * in the request.
 */
const TYPED_ELSEWHERE = new Set(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Expires', 'Content-Type', 'Route', 'Record-Route']);

/** What `typedContacts([])` gives, shared by the responses with no Contact (407, 100, BYE's 200…). */
const NO_CONTACTS = { ok: true, value: [] } as const;

/**
 * Appends `req`'s headers named `name` (canonical) to `headers`. A function of the module, not a
 * closure in `buildResponse`: tsx (esbuild keepNames) names every closure it creates with a
 * `defineProperty`, per response (issue #4).
 */
function copyNamed(headers: Header[], req: SipRequest, name: string): void {
  for (const h of req.headers) if (h.name === name) headers.push(h);
}

/** A response to `req` (RFC 3261 §8.2.6.2; Record-Route copied for dialog-creating responses, §12.1.1). */
export function buildResponse(req: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const hasToTag = req.to.params.has('tag');
  const toTag = hasToTag || status === 100 ? undefined : (options.toTag ?? newTag());
  const withRecordRoute = status > 100 && status < 300 && DIALOG_CREATING.has(req.method);
  const extra = options.headers ?? [];
  // The request's headers copied straight into the response's list (4–6 per response: no list per name).
  const headers: Header[] = [];
  copyNamed(headers, req, 'Via');
  if (withRecordRoute) copyNamed(headers, req, 'Record-Route');
  copyNamed(headers, req, 'From');
  const toHeader = req.headers.find((h) => h.name === 'To')!.value;
  headers.push({ name: 'To', value: toTag === undefined ? toHeader : `${toHeader};tag=${toTag}` });
  copyNamed(headers, req, 'Call-ID');
  copyNamed(headers, req, 'CSeq');
  if (status === 100) copyNamed(headers, req, 'Timestamp');
  for (const h of extra) headers.push(h);
  const built = withBody(headers, options.content);
  const reason = options.reason ?? reasonPhrase(status);
  if (extra.some((h) => TYPED_ELSEWHERE.has(h.name))) return { kind: 'response', status, reason, ...built, ...typedOrThrow(built.headers).value };
  // issue #4: the copied headers keep the request's typed views (parsing them again was 1–2 % of a call's CPU)
  const contactValues = extra.some((h) => h.name === 'Contact') ? extra.filter((h) => h.name === 'Contact').map((h) => h.value) : [];
  const contact = contactValues.length === 0 ? NO_CONTACTS : typedContacts(contactValues);
  if (!contact.ok) throw new TypeError(`cannot build SIP message: ${contact.error}`);
  return {
    kind: 'response',
    status,
    reason,
    ...built,
    via: req.via,
    from: req.from,
    to: toTag === undefined ? req.to : { ...req.to, params: new Map(req.to.params).set('tag', toTag) },
    callId: req.callId,
    cseq: req.cseq,
    maxForwards: undefined,
    contentLength: built.body.length,
    contact: contact.value,
    route: [],
    recordRoute: withRecordRoute ? req.recordRoute : [],
  };
}

export interface RequestOptions {
  readonly method: string;
  readonly uri: Uri;
  /** The From, with its tag. */
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: number;
  /** Top Via of this hop; a new branch is made when none is given. */
  readonly via: { readonly transport: string; readonly host: string; readonly port?: number; readonly branch?: string; readonly rport?: boolean };
  readonly maxForwards?: number;
  readonly contact?: NameAddr;
  readonly route?: readonly NameAddr[];
  readonly headers?: readonly Header[];
  readonly content?: Content;
}

/** A display name the parser gives back as written: token words, or a quoted string without escapes. */
const PLAIN_DISPLAY_NAME = /^(?:[A-Za-z0-9\-.!%*_+`'~]+(?: [A-Za-z0-9\-.!%*_+`'~]+)*|"[^"\\\r\n]*")$/u;
const plainName = (n: NameAddr): boolean => n.displayName === undefined || PLAIN_DISPLAY_NAME.test(n.displayName);
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/u;
const CALL_ID = /^[\x21-\x7e]+$/u;

/**
 * True when the typed views of a built request can be taken from its options as they are
 * (what parsing its headers again would give): the name-addrs were parsed or built as
 * values (URIs are typed), their display names plain, the Via host an IPv4 literal, no
 * extra header that a typed view reads. Otherwise the headers are parsed (and a bad input
 * throws).
 */
function typedAsGiven(o: RequestOptions, extra: readonly Header[], maxForwards: number): boolean {
  return (
    IPV4.test(o.via.host) &&
    CALL_ID.test(o.callId) &&
    isToken(o.method) &&
    Number.isInteger(o.cseq) && o.cseq >= 0 && o.cseq <= MAX_CSEQ &&
    Number.isInteger(maxForwards) && maxForwards >= 0 && maxForwards <= 255 &&
    plainName(o.from) && plainName(o.to) && (o.contact === undefined || plainName(o.contact)) && (o.route ?? []).every(plainName) &&
    !extra.some((h) => TYPED_ELSEWHERE.has(h.name) || h.name === 'Contact')
  );
}

/** A new request (RFC 3261 §8.1.1): Via, Max-Forwards, Route, From, To, Call-ID, CSeq, Contact, extras, body. */
export function buildRequest(o: RequestOptions): SipRequest {
  const branch = o.via.branch ?? newBranch();
  const params = new Map<string, string | null>([['branch', branch]]);
  if (o.via.rport === true) params.set('rport', null);
  const maxForwards = o.maxForwards ?? 70;
  const route = o.route ?? [];
  const extra = o.headers ?? [];
  const headers: Header[] = [
    { name: 'Via', value: formatVia({ transport: o.via.transport, host: o.via.host, port: o.via.port, params }) },
    { name: 'Max-Forwards', value: String(maxForwards) },
  ];
  for (const r of route) headers.push({ name: 'Route', value: formatNameAddr(r) });
  headers.push(
    { name: 'From', value: formatNameAddr(o.from) },
    { name: 'To', value: formatNameAddr(o.to) },
    { name: 'Call-ID', value: o.callId },
    { name: 'CSeq', value: `${o.cseq} ${o.method}` },
  );
  if (o.contact !== undefined) headers.push({ name: 'Contact', value: formatNameAddr(o.contact) });
  for (const h of extra) headers.push(h);
  const built = withBody(headers, o.content);
  if (!typedAsGiven(o, extra, maxForwards)) return { kind: 'request', method: o.method, uri: o.uri, ...built, ...typedOrThrow(built.headers).value };
  // issue #4: the B2BUA builds 4 requests a call; parsing their headers again was ~9 % of the bytes a call allocated
  const via: Via = {
    protocol: 'SIP',
    version: '2.0',
    transport: o.via.transport.toUpperCase(),
    host: o.via.host,
    port: o.via.port,
    params,
    branch,
    received: undefined,
    rport: o.via.rport === true ? true : undefined,
    maddr: undefined,
    ttl: undefined,
  };
  const c = o.contact;
  return {
    kind: 'request',
    method: o.method,
    uri: o.uri,
    ...built,
    via: [via],
    from: o.from,
    to: o.to,
    callId: o.callId,
    cseq: { seq: o.cseq, method: o.method },
    maxForwards,
    contentLength: built.body.length,
    contact: c === undefined ? [] : [{ displayName: c.displayName, uri: c.uri, params: c.params, star: false }],
    route: [...route],
    recordRoute: [],
  };
}

/** The typed views of built headers; a failure is a programming error of the caller. */
function typedOrThrow(headers: readonly Header[]): ReturnType<typeof typedHeaders> & { ok: true } {
  const typed = typedHeaders(headers);
  if (!typed.ok) throw new TypeError(`cannot build SIP message: ${typed.error}`);
  return typed;
}

/** The topmost Via value of a message, as written. */
function topViaValue(req: SipRequest): string {
  const first = req.headers.find((h) => h.name === 'Via')!.value;
  return (splitList(first) ?? [first])[0]!;
}

/** Headers shared by ACK (non-2xx, §17.1.1.3) and CANCEL (§9.1): one Via, the Routes, From, Call-ID. */
function hopRequest(req: SipRequest, method: string, to: string): SipRequest {
  const headers: Header[] = [
    { name: 'Via', value: topViaValue(req) },
    { name: 'Max-Forwards', value: '70' },
    ...req.headers.filter((h) => h.name === 'Route'),
    ...req.headers.filter((h) => h.name === 'From'),
    { name: 'To', value: to },
    ...req.headers.filter((h) => h.name === 'Call-ID'),
    { name: 'CSeq', value: `${req.cseq.seq} ${method}` },
    { name: 'Content-Length', value: '0' },
  ];
  return { kind: 'request', method, uri: req.uri, headers, body: new Uint8Array(0), ...typedOrThrow(headers).value };
}

/** The ACK a client INVITE transaction sends for a 3xx–6xx response (RFC 3261 §17.1.1.3). */
export const buildAckForNon2xx = (invite: SipRequest, response: SipResponse): SipRequest =>
  hopRequest(invite, 'ACK', response.headers.find((h) => h.name === 'To')!.value);

/** A CANCEL for a pending request (RFC 3261 §9.1). */
export const buildCancel = (req: SipRequest): SipRequest => hopRequest(req, 'CANCEL', req.headers.find((h) => h.name === 'To')!.value);

const printable = (s: string): string => s.replace(/[^\x20-\x7e]/gu, '?').slice(0, 80);

/**
 * The bytes of the response a server sends to a request it could not parse,
 * built from the raw headers (Via, From, To + tag, Call-ID, CSeq); undefined when
 * the error carries no request to answer.
 */
export function replyToParseError(error: ParseError, toTag: string = newTag()): Uint8Array | undefined {
  if (error.request === undefined) return undefined;
  const raw = error.request.headers;
  const lines = [`SIP/2.0 ${error.status} ${reasonPhrase(error.status)} (${printable(error.reason)})`];
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    const found = raw.filter((x) => x.name === name);
    for (const h of name === 'Via' ? found : found.slice(0, 1)) {
      const value = name === 'To' && !/;\s*tag\s*=/iu.test(h.value) ? `${h.value};tag=${toTag}` : h.value;
      lines.push(`${name}: ${value}`);
    }
  }
  lines.push('Content-Length: 0');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

export interface ResponseBytesOptions {
  readonly reason?: string | undefined;
  /** The To tag to add when the request had none (a new one by default). */
  readonly toTag?: string | undefined;
  /** Extra headers, after the copied ones (never Content-Length: written last, 0). */
  readonly headers?: readonly Header[] | undefined;
  /** A `Server` header, written just before Content-Length (as the SIP server adds it). */
  readonly server?: string | undefined;
}

/**
 * The bytes of a bodiless final response to `req` written straight from the request's
 * header values — Via(s), From, To (+ our tag), Call-ID, CSeq, as RFC 3261 §8.2.6.2 asks —
 * then the extra headers, `Server` and `Content-Length: 0`: no typed response, no header list
 * copied, no value parsed again (issue #4: the 401 and the 200 of every REGISTER). The values
 * copied are the parser's slices of the received text (a compact name written long, a folded
 * value unfolded, several Via headers each in its place: what `serializeMessage(buildResponse(…))`
 * writes, byte for byte). `kept`: a final response is held for retransmissions (Timer J),
 * so it gets an allocation of its own (see `serializeMessage`).
 * Undefined where only the typed path is right: a provisional response (100 copies Timestamp),
 * a 2xx to a dialog-creating request (Record-Route, §12.1.1), a request without its headers.
 */
export function responseBytes(req: SipRequest, status: number, o: ResponseBytesOptions = {}, kept = true): Uint8Array | undefined {
  if (status < 200 || status > 699 || (status < 300 && DIALOG_CREATING.has(req.method))) return undefined;
  let via = '';
  let from: string | undefined;
  let to: string | undefined;
  let callId: string | undefined;
  let cseq: string | undefined;
  for (const h of req.headers) {
    switch (h.name) {
      case 'Via': via += `Via: ${h.value}\r\n`; break;
      case 'From': from ??= h.value; break;
      case 'To': to ??= h.value; break;
      case 'Call-ID': callId ??= h.value; break;
      case 'CSeq': cseq ??= h.value; break;
    }
  }
  if (via === '' || from === undefined || to === undefined || callId === undefined || cseq === undefined) return undefined;
  const tag = req.to.params.has('tag') ? '' : `;tag=${o.toTag ?? newTag()}`;
  let head = `SIP/2.0 ${status} ${o.reason ?? reasonPhrase(status)}\r\n${via}From: ${from}\r\nTo: ${to}${tag}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\n`;
  if (o.headers !== undefined) for (const h of o.headers) head += `${h.name}: ${h.value}\r\n`;
  if (o.server !== undefined) head += `Server: ${o.server}\r\n`;
  head += 'Content-Length: 0\r\n\r\n';
  if (!kept) return Buffer.from(head, 'utf8');
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(head, 'utf8'));
  out.write(head, 0, 'utf8');
  return out;
}
