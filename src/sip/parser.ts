/**
 * RFC 3261 message parser. `parseMessage` never throws: a refused message comes
 * back as a `ParseError` value, carrying, when the request line and the Via
 * could be read, what a server needs to answer it (see `replyToParseError`).
 */
import {
  type CSeq,
  type Contact,
  type NameAddr,
  type Via,
  SINGLE_HEADERS,
  canonicalName,
  canonicalNameAt,
  nameHashStep,
  parseCSeq,
  parseContacts,
  parseNameAddr,
  parseNameAddrList,
  parseVia,
} from './headers.ts';
import { isAscii } from 'node:buffer';
import type { Header, SipMessage, SipRequest, SipResponse } from './message.ts';
import { type Result, fail, isToken, isTokenCode, ok, parseUInt, splitList, trimWs } from './syntax.ts';
import { isSipUri, parseUri } from './uri.ts';

export interface ParseError {
  readonly reason: string;
  /** The status a server should answer with (400, or 505 for another SIP version). */
  readonly status: number;
  /**
   * Present when the message is a request whose request line and headers were
   * readable and which has a Via to answer to: the material of a response.
   */
  readonly request?: { readonly method: string; readonly headers: readonly Header[] };
}

export type ParseResult = { readonly ok: true; readonly message: SipMessage } | { readonly ok: false; readonly error: ParseError };

export interface ParseOptions {
  /** Streams (TCP, TLS) require Content-Length (RFC 3261 §18.3). */
  readonly requireContentLength?: boolean;
}

/** Largest Content-Length accepted; framers enforce their own, smaller, limits. */
export const MAX_CONTENT_LENGTH = 2 ** 31 - 1;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Allocating a typed array costs about as much as parsing a header: the many bodiless messages share this one. */
const EMPTY_BODY = new Uint8Array(0);

/**
 * Bodies up to BODY_POOL_MAX bytes are cut from a shared slab, as Node's Buffer
 * pool does: a view costs a tenth of a fresh typed array. A body keeps its slab
 * alive as long as the message lives; larger bodies get their own memory.
 */
const BODY_SLAB_SIZE = 64 * 1024;
const BODY_POOL_MAX = 4096;
let bodySlab = new ArrayBuffer(BODY_SLAB_SIZE);
let bodySlabUsed = 0;

function allocateBody(length: number): Uint8Array {
  if (length > BODY_POOL_MAX) return new Uint8Array(length);
  if (bodySlabUsed + length > BODY_SLAB_SIZE) {
    bodySlab = new ArrayBuffer(BODY_SLAB_SIZE);
    bodySlabUsed = 0;
  }
  const body = new Uint8Array(bodySlab, bodySlabUsed, length);
  bodySlabUsed += (length + 7) & ~7;
  return body;
}

type StartLine =
  | { kind: 'request'; method: string; uriText: string }
  | { kind: 'response'; status: number; reason: string };

function parseStartLine(line: string): Result<StartLine> | { versionError: string; method: string } {
  if (/^SIP\//iu.test(line)) {
    const m = /^SIP\/(\d+\.\d+) (\d{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/iu.exec(line);
    if (!m) return fail('malformed status line');
    if (m[1] !== '2.0') return fail('unsupported SIP version in status line');
    const status = Number(m[2]);
    if (status < 100 || status > 699) return fail('status code out of range');
    return ok({ kind: 'response', status, reason: m[3] ?? '' });
  }
  // §7.1: Method SP Request-URI SP SIP-Version, exactly two single spaces.
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || sp2 === line.length - 1 || line.indexOf(' ', sp2 + 1) >= 0) return fail('malformed request line');
  const method = line.slice(0, sp1);
  const uriText = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method)) return fail('invalid method');
  if (version === 'SIP/2.0') return ok({ kind: 'request', method, uriText });
  const v = /^SIP\/(\d+\.\d+)$/iu.exec(version);
  if (!v) return fail('malformed SIP version');
  if (v[1] !== '2.0') return { versionError: `SIP version ${v[1] ?? ''} not supported`, method };
  return ok({ kind: 'request', method, uriText });
}

function parseHeaderLine(headers: Header[], line: string): string | undefined {
  const first = line.charCodeAt(0);
  if (first === 0x20 || first === 0x09) {
    const last = headers.pop();
    if (last === undefined) return 'continuation line before any header';
    headers.push({ name: last.name, value: trimWs(`${last.value} ${trimWs(line)}`) });
    return undefined;
  }
  const colon = line.indexOf(':');
  if (colon < 0) return 'header line without colon';
  const name = trimWs(line.slice(0, colon));
  if (!isToken(name)) return `invalid header name "${name.slice(0, 40)}"`;
  headers.push({ name: canonicalName(name), value: trimWs(line.slice(colon + 1)) });
  return undefined;
}

const isWsCode = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * Splits the header lines (§7.3.1: `name HCOLON value CRLF`, folded lines unfolded);
 * `pos` is just after the start line's CRLF. The usual line — a token, optional
 * whitespace, a colon — is cut straight out of `head`; any other goes through
 * `parseHeaderLine`.
 */
function parseHeaderLines(head: string, pos: number): Result<Header[]> {
  const headers: Header[] = [];
  const end = head.length;
  while (pos < end) {
    let eol = head.indexOf('\r\n', pos);
    if (eol < 0) eol = end;
    let i = pos;
    let hash = 0;
    for (let c = head.charCodeAt(i); i < eol && isTokenCode(c); c = head.charCodeAt(++i)) hash = nameHashStep(hash, c);
    let colon = i;
    while (isWsCode(head.charCodeAt(colon))) colon++;
    if (i > pos && colon < eol && head.charCodeAt(colon) === 0x3a) {
      let vStart = colon + 1;
      let vEnd = eol;
      while (vStart < vEnd && isWsCode(head.charCodeAt(vStart))) vStart++;
      while (vEnd > vStart && isWsCode(head.charCodeAt(vEnd - 1))) vEnd--;
      headers.push({ name: canonicalNameAt(head, pos, i, hash), value: head.slice(vStart, vEnd) });
    } else {
      const error = parseHeaderLine(headers, head.slice(pos, eol));
      if (error !== undefined) return fail(error);
    }
    pos = eol + 2;
  }
  return ok(headers);
}

/** A bare CR or LF, i.e. one that is not part of a CRLF (§7: lines end with CRLF only). */
function hasBareCrOrLf(head: string): boolean {
  for (let i = head.indexOf('\r'); i >= 0; i = head.indexOf('\r', i + 2)) if (head.charCodeAt(i + 1) !== 0x0a) return true;
  for (let i = head.indexOf('\n'); i >= 0; i = head.indexOf('\n', i + 1)) if (head.charCodeAt(i - 1) !== 0x0d) return true;
  return false;
}

interface Typed {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  maxForwards: number | undefined;
  contentLength: number | undefined;
  contact: Contact[];
  route: NameAddr[];
  recordRoute: NameAddr[];
}

function parseVias(values: readonly string[]): Result<Via[]> {
  const vias: Via[] = [];
  for (const value of values) {
    const parts = splitList(value);
    if (parts === undefined) return fail('malformed Via');
    for (const part of parts) {
      const v = parseVia(part);
      if (!v.ok) return v;
      vias.push(v.value);
    }
  }
  return vias.length === 0 ? fail('missing Via') : ok(vias);
}

/**
 * The typed list of a header the message does not carry (most have no Route, Record-Route,
 * and an ACK, a BYE and its 200 no Contact): one shared, frozen empty list, not an array and a
 * result per message (issue #4).
 */
const NO_ITEMS: Result<never[]> = Object.freeze({ ok: true, value: Object.freeze([]) as unknown as never[] });

function collectList<T>(values: readonly string[], name: string, parse: (v: string) => Result<T[]>): Result<T[]> {
  if (values.length === 0) return NO_ITEMS;
  const out: T[] = [];
  for (const value of values) {
    const r = parse(value);
    if (!r.ok) return fail(`invalid ${name}: ${r.error}`);
    for (const item of r.value) out.push(item);
  }
  return ok(out);
}

/** The Contact values of a message's Contact headers, `*` alone (§10.2.2). */
export function typedContacts(values: readonly string[]): Result<Contact[]> {
  const contact = collectList(values, 'Contact', parseContacts);
  if (contact.ok && contact.value.length > 1 && contact.value.some((c) => c.star)) return fail('Contact * mixed with other contacts');
  return contact;
}

const parseRoutes = (v: string): Result<NameAddr[]> => parseNameAddrList(v);

const NONE = Object.freeze([]) as unknown as string[];
/** `list` with `value` at its end; a list made at its first value holds just it (a `push` on [] reserves 17 slots). */
function added(list: string[], value: string): string[] {
  if (list === NONE) return [value];
  list.push(value);
  return list;
}

/** The headers the typed views are built from, gathered in one pass over the raw headers. */
class Gathered {
  via: string[] = NONE;
  /** Contact, Route and Record-Route values: the shared empty `NONE` until the first one (most messages carry no Route). */
  contact: string[] = NONE;
  route: string[] = NONE;
  recordRoute: string[] = NONE;
  from: string | undefined;
  to: string | undefined;
  callId: string | undefined;
  cseq: string | undefined;
  maxForwards: string | undefined;
  contentLength: string | undefined;
  /** The SINGLE_HEADERS present (bit i for SINGLE_HEADERS[i]), and those present more than once: two numbers, not an array per message. */
  seen = 0;
  repeated = 0;

  constructor(headers: readonly Header[]) {
    for (const { name, value } of headers) {
      switch (name) {
        case 'Via': this.via = added(this.via, value); break;
        case 'From': this.from ??= value; this.count(0); break;
        case 'To': this.to ??= value; this.count(1); break;
        case 'Call-ID': this.callId ??= value; this.count(2); break;
        case 'CSeq': this.cseq ??= value; this.count(3); break;
        case 'Max-Forwards': this.maxForwards ??= value; this.count(4); break;
        case 'Content-Length': this.contentLength ??= value; this.count(5); break;
        case 'Expires': this.count(6); break;
        case 'Content-Type': this.count(7); break;
        case 'Contact': this.contact = added(this.contact, value); break;
        case 'Route': this.route = added(this.route, value); break;
        case 'Record-Route': this.recordRoute = added(this.recordRoute, value); break;
      }
    }
  }

  private count(i: number): void {
    const bit = 1 << i;
    if ((this.seen & bit) !== 0) this.repeated |= bit;
    this.seen |= bit;
  }
}

/** Computes and validates the typed header views of a message. */
export function typedHeaders(headers: readonly Header[]): Result<Typed> {
  return typedFrom(new Gathered(headers));
}

function typedFrom(g: Gathered): Result<Typed> {
  // §7.3.1, §20: these may appear at most once.
  if (g.repeated !== 0) for (let i = 0; i < SINGLE_HEADERS.length; i++) if ((g.repeated & (1 << i)) !== 0) return fail(`more than one ${SINGLE_HEADERS[i]!} header`);
  const via = parseVias(g.via);
  if (!via.ok) return via;
  if (g.from === undefined) return fail('missing From');
  const from = parseNameAddr(g.from);
  if (!from.ok) return fail(`invalid From: ${from.error}`);
  if (g.to === undefined) return fail('missing To');
  const to = parseNameAddr(g.to);
  if (!to.ok) return fail(`invalid To: ${to.error}`);
  const callId = g.callId;
  if (callId === undefined) return fail('missing Call-ID');
  if (!/^[\x21-\x7e]+$/u.test(callId)) return fail('invalid Call-ID');
  if (g.cseq === undefined) return fail('missing CSeq');
  const cseq = parseCSeq(g.cseq);
  if (!cseq.ok) return cseq;
  const mfText = g.maxForwards;
  const maxForwards = mfText === undefined ? undefined : parseUInt(mfText, 255);
  if (mfText !== undefined && maxForwards === undefined) return fail('invalid Max-Forwards');
  const clText = g.contentLength;
  const contentLength = clText === undefined ? undefined : parseUInt(clText, MAX_CONTENT_LENGTH);
  if (clText !== undefined && contentLength === undefined) return fail('invalid Content-Length');
  const contact = typedContacts(g.contact);
  if (!contact.ok) return contact;
  const route = collectList(g.route, 'Route', parseRoutes);
  if (!route.ok) return route;
  const recordRoute = collectList(g.recordRoute, 'Record-Route', parseRoutes);
  if (!recordRoute.ok) return recordRoute;
  return ok({
    via: via.value,
    from: from.value,
    to: to.value,
    callId,
    cseq: cseq.value,
    maxForwards,
    contentLength,
    contact: contact.value,
    route: route.value,
    recordRoute: recordRoute.value,
  });
}

/** Parses one message from a datagram or a frame cut by `StreamFramer`. */
export function parseMessage(data: Uint8Array, options: ParseOptions = {}): ParseResult {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let start = 0;
  while (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  const headEnd = buf.indexOf(CRLFCRLF, start);
  if (headEnd < 0) return refuse('no empty line after the headers');
  const head = decodeHead(buf, start, headEnd);
  if (head === undefined) return refuse('headers are not valid UTF-8');
  if (hasBareCrOrLf(head)) return refuse('bare CR or LF in the headers');
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  const startLine = parseStartLine(head.slice(0, lineEnd));
  const parsedHeaders = parseHeaderLines(head, lineEnd + 2);
  if (!parsedHeaders.ok) return refuse(parsedHeaders.error);
  const headers = parsedHeaders.value;
  if ('versionError' in startLine) return refuse(startLine.versionError, 505, replyable(startLine.method, new Gathered(headers), headers));
  if (!startLine.ok) return refuse(startLine.error);
  const sl = startLine.value;
  const gathered = new Gathered(headers);
  const typed = typedFrom(gathered);
  if (!typed.ok) return refuse(typed.error, 400, sl.kind === 'request' ? replyable(sl.method, gathered, headers) : undefined);
  const t = typed.value;
  // Past typedFrom the request has a valid Via and a CSeq: it can be answered.
  const context = sl.kind === 'request' ? { method: sl.method, headers } : undefined;

  const bodyStart = headEnd + 4;
  const available = buf.length - bodyStart;
  if (t.contentLength === undefined && options.requireContentLength === true) return refuse('missing Content-Length', 400, context);
  const length = t.contentLength ?? available;
  if (length > available) return refuse('body shorter than Content-Length', 400, context);
  // A copy: the message must not alias the receive buffer. Empty bodies share one zero-length array (nothing to alias or mutate).
  const body = length === 0 ? EMPTY_BODY : allocateBody(length);
  if (length > 0) body.set(new Uint8Array(buf.buffer, buf.byteOffset + bodyStart, length));

  if (sl.kind === 'response') {
    const message: SipResponse = {
      kind: 'response', status: sl.status, reason: sl.reason, headers, body,
      via: t.via, from: t.from, to: t.to, callId: t.callId, cseq: t.cseq, maxForwards: t.maxForwards,
      contentLength: t.contentLength, contact: t.contact, route: t.route, recordRoute: t.recordRoute,
    };
    return { ok: true, message };
  }
  const uri = parseUri(sl.uriText);
  if (!uri.ok) return refuse(`invalid Request-URI: ${uri.error}`, 400, context);
  if (isSipUri(uri.value) && uri.value.headers.length > 0) return refuse('Request-URI must not contain headers', 400, context);
  if (t.cseq.method !== sl.method) return refuse('CSeq method does not match the request method', 400, context);
  // Fields written out rather than spread from `t`: a literal of fixed shape is much cheaper to build.
  const message: SipRequest = {
    kind: 'request', method: sl.method, uri: uri.value, headers, body,
    via: t.via, from: t.from, to: t.to, callId: t.callId, cseq: t.cseq, maxForwards: t.maxForwards,
    contentLength: t.contentLength, contact: t.contact, route: t.route, recordRoute: t.recordRoute,
  };
  return { ok: true, message };
}

/** The header section as text; undefined when it is not valid UTF-8. ASCII (the usual case) is decoded without validation. */
function decodeHead(buf: Buffer, start: number, end: number): string | undefined {
  const bytes = buf.subarray(start, end);
  if (isAscii(bytes)) return buf.toString('latin1', start, end);
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function replyable(method: string, g: Gathered, headers: readonly Header[]): ParseError['request'] {
  const canAnswer = parseVias(g.via).ok && (g.seen & (1 << SINGLE_HEADERS.indexOf('CSeq'))) !== 0;
  return canAnswer ? { method, headers } : undefined;
}

function refuse(reason: string, status = 400, request?: ParseError['request']): ParseResult {
  return { ok: false, error: request === undefined ? { reason, status } : { reason, status, request } };
}
