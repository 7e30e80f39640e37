/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966) and any other absoluteURI
 * kept opaque. Escapes are kept as written (`user` is the raw, escaped text);
 * `unescape` decodes them when a caller needs the octets.
 */
import { NO_PARAMS, ParseMemo, type Params, type Result, asciiTable, fail, formatParams, isHost, ok, parsePort } from './syntax.ts';

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** User part as written (escaped), undefined when there is no userinfo. */
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;
  /** URI headers (`?name=value&...`), raw. */
  readonly headers: readonly (readonly [string, string])[];
}

export interface TelUri {
  readonly scheme: 'tel';
  readonly number: string;
  readonly params: Params;
}

/** Any other scheme (RFC 3261 absoluteURI), kept opaque. */
export interface OtherUri {
  readonly scheme: string;
  readonly opaque: string;
}

export type Uri = SipUri | TelUri | OtherUri;

export const isSipUri = (u: Uri): u is SipUri => u.scheme === 'sip' || u.scheme === 'sips';
export const isTelUri = (u: Uri): u is TelUri => u.scheme === 'tel';

const UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()";
const isHexCode = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
/** Every character unreserved, in the table (unreserved plus the component's extra characters) or a `%XX` escape. */
const charsOk = (s: string, table: Uint8Array): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (!(isHexCode(s.charCodeAt(i + 1)) && isHexCode(s.charCodeAt(i + 2)))) return false;
      i += 2;
    } else if (c >= 128 || table[c] !== 1) return false;
  }
  return true;
};
const USER_CHARS = asciiTable(`${UNRESERVED}&=+$,;?/`);
const PASSWORD_CHARS = asciiTable(`${UNRESERVED}&=+$,`);
const PARAM_CHARS = asciiTable(`${UNRESERVED}[]/:&+$`);
const HEADER_CHARS = asciiTable(`${UNRESERVED}[]/?:+$`);

/** Decodes `%XX` escapes (as UTF-8; invalid sequences become U+FFFD). */
export function unescape(s: string): string {
  return Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/gu, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

function parseUriParams(text: string, table: Uint8Array): Result<Params> {
  if (text === '') return ok(NO_PARAMS);
  const params = new Map<string, string | null>();
  for (let start = 0, end = 0; end < text.length; start = end + 1) {
    end = text.indexOf(';', start);
    if (end < 0) end = text.length;
    const part = text.slice(start, end);
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (name === '' || !charsOk(name, table)) return fail(`invalid URI parameter "${part}"`);
    if (value !== null && (value === '' || !charsOk(value, table))) return fail(`invalid URI parameter value "${part}"`);
    const key = name.toLowerCase();
    if (params.has(key)) return fail(`URI parameter ${key} appears twice`);
    params.set(key, value);
  }
  return ok(params);
}

function parseSip(scheme: 'sip' | 'sips', rest: string): Result<SipUri> {
  const at = rest.indexOf('@');
  let user: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    password = colon < 0 ? undefined : userinfo.slice(colon + 1);
    if (user === '' || !charsOk(user, USER_CHARS)) return fail('invalid user part');
    if (password !== undefined && !charsOk(password, PASSWORD_CHARS)) return fail('invalid password');
  }
  // hostport [ ";" params ] [ "?" headers ], located by index in `rest` (no intermediate strings).
  const hostStart = at + 1;
  const q = rest.indexOf('?', hostStart);
  const headersText = q < 0 ? undefined : rest.slice(q + 1);
  const paramsEnd = q < 0 ? rest.length : q;
  let semi = rest.indexOf(';', hostStart);
  if (semi >= paramsEnd) semi = -1;
  const hostEnd = semi < 0 ? paramsEnd : semi;
  const paramsText = semi < 0 ? '' : rest.slice(semi + 1, paramsEnd);
  let portSep: number;
  if (rest.charCodeAt(hostStart) === 0x5b) {
    const close = rest.indexOf(']:', hostStart);
    portSep = close >= 0 && close + 2 <= hostEnd ? close + 1 : -1;
  } else {
    const colon = rest.indexOf(':', hostStart);
    portSep = colon > hostStart && colon < hostEnd ? colon : -1;
  }
  const host = rest.slice(hostStart, portSep < 0 ? hostEnd : portSep);
  let port: number | undefined;
  if (portSep >= 0) {
    port = parsePort(rest.slice(portSep + 1, hostEnd));
    if (port === undefined) return fail('invalid port');
  }
  if (!isHost(host)) return fail(`invalid host "${host}"`);
  const params = parseUriParams(paramsText, PARAM_CHARS);
  if (!params.ok) return params;
  const headers: (readonly [string, string])[] = [];
  if (headersText !== undefined) {
    for (const h of headersText.split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0) return fail(`invalid URI header "${h}"`);
      const [name, value] = [h.slice(0, eq), h.slice(eq + 1)];
      if (!charsOk(name, HEADER_CHARS) || !charsOk(value, HEADER_CHARS)) return fail(`invalid URI header "${h}"`);
      headers.push([name, value]);
    }
  }
  return ok({ scheme, user, password, host, port, params: params.value, headers });
}

function parseTel(rest: string): Result<TelUri> {
  const semi = rest.indexOf(';');
  const number = semi < 0 ? rest : rest.slice(0, semi);
  const params = parseUriParams(semi < 0 ? '' : rest.slice(semi + 1), PARAM_CHARS);
  if (!params.ok) return params;
  const global = /^\+[0-9\-.()]+$/u.test(number) && /[0-9]/u.test(number);
  const local = /^[0-9A-Fa-f*#\-.()]+$/u.test(number) && /[0-9A-Fa-f*#]/u.test(number);
  if (!global && !(local && params.value.has('phone-context'))) return fail('invalid tel number');
  return ok({ scheme: 'tel', number, params: params.value });
}

/** `text.slice(0, colon)` is `sip` or `sips` in any case (ASCII only; other text takes the general path). */
function isSipScheme(text: string, colon: number): boolean {
  if (colon !== 3 && colon !== 4) return false;
  return (
    (text.charCodeAt(0) | 0x20) === 0x73 &&
    (text.charCodeAt(1) | 0x20) === 0x69 &&
    (text.charCodeAt(2) | 0x20) === 0x70 &&
    (colon === 3 || (text.charCodeAt(3) | 0x20) === 0x73)
  );
}

/** Parses a URI; the text must contain no whitespace. A text parsed lately gives the same (read-only) value (`ParseMemo`). */
export const parseUri = (text: string): Result<Uri> => uris.get(text);

function parseUriText(text: string): Result<Uri> {
  const colon = text.indexOf(':');
  if (colon <= 0) return fail('missing URI scheme');
  const rest = text.slice(colon + 1);
  if (isSipScheme(text, colon)) return parseSip(colon === 3 ? 'sip' : 'sips', rest);
  const scheme = text.slice(0, colon).toLowerCase();
  if (!/^[a-z][a-z0-9+\-.]*$/u.test(scheme)) return fail('invalid URI scheme');
  if (scheme === 'sip' || scheme === 'sips') return parseSip(scheme, rest);
  if (scheme === 'tel') return parseTel(rest);
  if (rest === '' || !/^[\x21-\x7e]+$/u.test(rest) || /[<>"{}|\\^`]/u.test(rest)) return fail('invalid absolute URI');
  return ok({ scheme, opaque: rest });
}

const uris = new ParseMemo(parseUriText);

export function formatUri(u: Uri): string {
  if (isSipUri(u)) {
    const userinfo = u.user === undefined ? '' : `${u.user}${u.password === undefined ? '' : `:${u.password}`}@`;
    const port = u.port === undefined ? '' : `:${u.port}`;
    const headers = u.headers.length === 0 ? '' : `?${u.headers.map(([n, v]) => `${n}=${v}`).join('&')}`;
    return `${u.scheme}:${userinfo}${u.host}${port}${formatParams(u.params)}${headers}`;
  }
  if (isTelUri(u)) return `tel:${u.number}${formatParams(u.params)}`;
  return `${u.scheme}:${u.opaque}`;
}

/** Parameters that, present in either SIP URI, must be in both and match (RFC 3261 §19.1.4). */
const SIGNIFICANT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

const sameParam = (a: string | null, b: string | null): boolean =>
  a === null || b === null ? a === b : unescape(a).toLowerCase() === unescape(b).toLowerCase();

/** URI equality (RFC 3261 §19.1.4 for SIP/SIPS; digits and parameters for tel; text otherwise). */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (isSipUri(a) && isSipUri(b)) {
    if (a.user !== undefined || b.user !== undefined) {
      if (a.user === undefined || b.user === undefined || unescape(a.user) !== unescape(b.user)) return false;
    }
    if ((a.password === undefined) !== (b.password === undefined)) return false;
    if (a.password !== undefined && unescape(a.password) !== unescape(b.password!)) return false;
    if (a.host.toLowerCase() !== b.host.toLowerCase() || a.port !== b.port) return false;
    for (const [name, value] of a.params) {
      const other = b.params.get(name);
      if (other === undefined ? SIGNIFICANT_PARAMS.includes(name) : !sameParam(value, other)) return false;
    }
    if (SIGNIFICANT_PARAMS.some((name) => b.params.has(name) && !a.params.has(name))) return false;
    return (a.headers.length === 0 && b.headers.length === 0) || comparableHeaders(a) === comparableHeaders(b);
  }
  if (isTelUri(a) && isTelUri(b)) return telDigits(a.number) === telDigits(b.number) && comparableTelParams(a) === comparableTelParams(b);
  return formatUri(a) === formatUri(b);
}

// Functions of the module rather than closures in `uriEquals` (tsx names each closure it creates, issue #4).
const comparableHeaders = (u: SipUri): string => u.headers.map(([n, v]) => `${unescape(n).toLowerCase()}=${unescape(v)}`).sort().join('&');
const telDigits = (n: string): string => n.replace(/[-.()]/gu, '').toLowerCase();
const comparableTelParams = (u: TelUri): string => [...u.params].map(([k, v]) => `${k}=${(v ?? '').toLowerCase()}`).sort().join(';');
