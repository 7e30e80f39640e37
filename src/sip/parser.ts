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
  parseCSeq,
  parseContacts,
  parseNameAddr,
  parseNameAddrList,
  parseVia,
} from './headers.ts';
import type { Header, SipMessage } from './message.ts';
import { type Result, fail, isToken, ok, parseUInt, splitList, trimWs } from './syntax.ts';
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
  const parts = line.split(' ');
  if (parts.length !== 3 || parts.some((p) => p === '')) return fail('malformed request line');
  const [method, uriText, version] = parts as [string, string, string];
  if (!isToken(method)) return fail('invalid method');
  const v = /^SIP\/(\d+\.\d+)$/iu.exec(version);
  if (!v) return fail('malformed SIP version');
  if (v[1] !== '2.0') return { versionError: `SIP version ${v[1] ?? ''} not supported`, method };
  return ok({ kind: 'request', method, uriText });
}

function parseHeaderLines(lines: readonly string[]): Result<Header[]> {
  const headers: Header[] = [];
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = headers.pop();
      if (last === undefined) return fail('continuation line before any header');
      headers.push({ name: last.name, value: trimWs(`${last.value} ${trimWs(line)}`) });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) return fail('header line without colon');
    const name = trimWs(line.slice(0, colon));
    if (!isToken(name)) return fail(`invalid header name "${name.slice(0, 40)}"`);
    headers.push({ name: canonicalName(name), value: trimWs(line.slice(colon + 1)) });
  }
  return ok(headers);
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

const valuesOf = (headers: readonly Header[], name: string): string[] =>
  headers.filter((h) => h.name === name).map((h) => h.value);

function parseVias(headers: readonly Header[]): Result<Via[]> {
  const vias: Via[] = [];
  for (const value of valuesOf(headers, 'Via')) {
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

function collectList<T>(headers: readonly Header[], name: string, parse: (v: string) => Result<T[]>): Result<T[]> {
  const out: T[] = [];
  for (const value of valuesOf(headers, name)) {
    const r = parse(value);
    if (!r.ok) return fail(`invalid ${name}: ${r.error}`);
    out.push(...r.value);
  }
  return ok(out);
}

/** Computes and validates the typed header views of a message. */
export function typedHeaders(headers: readonly Header[]): Result<Typed> {
  for (const name of SINGLE_HEADERS) {
    if (valuesOf(headers, name).length > 1) return fail(`more than one ${name} header`);
  }
  const via = parseVias(headers);
  if (!via.ok) return via;
  const single = (name: string): Result<string> => {
    const v = valuesOf(headers, name)[0];
    return v === undefined ? fail(`missing ${name}`) : ok(v);
  };
  const fromText = single('From');
  if (!fromText.ok) return fromText;
  const from = parseNameAddr(fromText.value);
  if (!from.ok) return fail(`invalid From: ${from.error}`);
  const toText = single('To');
  if (!toText.ok) return toText;
  const to = parseNameAddr(toText.value);
  if (!to.ok) return fail(`invalid To: ${to.error}`);
  const callId = single('Call-ID');
  if (!callId.ok) return callId;
  if (!/^[\x21-\x7e]+$/u.test(callId.value)) return fail('invalid Call-ID');
  const cseqText = single('CSeq');
  if (!cseqText.ok) return cseqText;
  const cseq = parseCSeq(cseqText.value);
  if (!cseq.ok) return cseq;
  const mfText = valuesOf(headers, 'Max-Forwards')[0];
  const maxForwards = mfText === undefined ? undefined : parseUInt(mfText, 255);
  if (mfText !== undefined && maxForwards === undefined) return fail('invalid Max-Forwards');
  const clText = valuesOf(headers, 'Content-Length')[0];
  const contentLength = clText === undefined ? undefined : parseUInt(clText, MAX_CONTENT_LENGTH);
  if (clText !== undefined && contentLength === undefined) return fail('invalid Content-Length');
  const contact = collectList(headers, 'Contact', parseContacts);
  if (!contact.ok) return contact;
  if (contact.value.some((c) => c.star) && contact.value.length > 1) return fail('Contact * mixed with other contacts');
  const route = collectList(headers, 'Route', (v) => parseNameAddrList(v));
  if (!route.ok) return route;
  const recordRoute = collectList(headers, 'Record-Route', (v) => parseNameAddrList(v));
  if (!recordRoute.ok) return recordRoute;
  return ok({
    via: via.value,
    from: from.value,
    to: to.value,
    callId: callId.value,
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
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let start = 0;
  while (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  const headEnd = buf.indexOf(CRLFCRLF, start);
  if (headEnd < 0) return refuse('no empty line after the headers');
  let head: string;
  try {
    head = utf8.decode(buf.subarray(start, headEnd));
  } catch {
    return refuse('headers are not valid UTF-8');
  }
  const lines = head.split('\r\n');
  if (lines.some((l) => l.includes('\r') || l.includes('\n'))) return refuse('bare CR or LF in the headers');
  const startLine = parseStartLine(lines[0]!);
  const headers = parseHeaderLines(lines.slice(1));
  if (!headers.ok) return refuse(headers.error);
  if ('versionError' in startLine) return refuse(startLine.versionError, 505, replyable(startLine.method, headers.value));
  if (!startLine.ok) return refuse(startLine.error);
  const sl = startLine.value;
  const context = sl.kind === 'request' ? replyable(sl.method, headers.value) : undefined;
  const typed = typedHeaders(headers.value);
  if (!typed.ok) return refuse(typed.error, 400, context);
  const t = typed.value;

  const bodyStart = headEnd + 4;
  const available = buf.length - bodyStart;
  if (t.contentLength === undefined && options.requireContentLength === true) return refuse('missing Content-Length', 400, context);
  const length = t.contentLength ?? available;
  if (length > available) return refuse('body shorter than Content-Length', 400, context);
  const body = new Uint8Array(buf.subarray(bodyStart, bodyStart + length));

  if (sl.kind === 'response') {
    return { ok: true, message: { kind: 'response', status: sl.status, reason: sl.reason, headers: headers.value, body, ...t } };
  }
  const uri = parseUri(sl.uriText);
  if (!uri.ok) return refuse(`invalid Request-URI: ${uri.error}`, 400, context);
  if (isSipUri(uri.value) && uri.value.headers.length > 0) return refuse('Request-URI must not contain headers', 400, context);
  if (t.cseq.method !== sl.method) return refuse('CSeq method does not match the request method', 400, context);
  return { ok: true, message: { kind: 'request', method: sl.method, uri: uri.value, headers: headers.value, body, ...t } };
}

function replyable(method: string, headers: readonly Header[]): ParseError['request'] {
  const canAnswer = parseVias(headers).ok && valuesOf(headers, 'CSeq').length > 0;
  return canAnswer ? { method, headers } : undefined;
}

function refuse(reason: string, status = 400, request?: ParseError['request']): ParseResult {
  return { ok: false, error: request === undefined ? { reason, status } : { reason, status, request } };
}
