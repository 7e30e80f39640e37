/**
 * Lexical building blocks of RFC 3261 §25: character classes, a small scanner,
 * quoted strings, generic parameters, hosts and ports. Every function returns a
 * value or `undefined`/a `Result` — nothing here throws on hostile input.
 */
import { isIPv6 } from 'node:net';

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: string): Result<T> => ({ ok: false, error });

/** Ordered parameters, keyed by lower-cased name; a valueless parameter maps to `null`. */
export type Params = ReadonlyMap<string, string | null>;

const TOKEN_EXTRA = new Set('-.!%*_+`\'~');
const isAlnum = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
export const isTokenChar = (c: string): boolean => isAlnum(c) || TOKEN_EXTRA.has(c);
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/u;
export const isToken = (s: string): boolean => TOKEN.test(s);
/** Trims SP and HTAB only (String#trim would also eat U+FEFF and other Unicode spaces). */
export function trimWs(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWs(s[start])) start++;
  while (end > start && isWs(s[end - 1])) end--;
  return s.slice(start, end);
}
export const isWs = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** A cursor over one header value (already unfolded: no CR or LF left). */
export class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipWs(): void {
    while (isWs(this.text[this.pos])) this.pos++;
  }

  /** Consumes `c` (after optional whitespace on both sides) if it is next. */
  eat(c: string): boolean {
    const start = this.pos;
    this.skipWs();
    if (this.text[this.pos] === c) {
      this.pos++;
      this.skipWs();
      return true;
    }
    this.pos = start;
    return false;
  }

  token(): string | undefined {
    const start = this.pos;
    while (this.pos < this.text.length && isTokenChar(this.text[this.pos]!)) this.pos++;
    return this.pos > start ? this.text.slice(start, this.pos) : undefined;
  }

  /** Consumes characters while `pred` holds; returns them (possibly empty). */
  while(pred: (c: string) => boolean): string {
    const start = this.pos;
    while (this.pos < this.text.length && pred(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** A quoted-string, returned raw (with its quotes and escapes); undefined if unterminated. */
  quoted(): string | undefined {
    if (this.text[this.pos] !== '"') return undefined;
    let i = this.pos + 1;
    while (i < this.text.length) {
      const c = this.text[i]!;
      if (c === '\\') {
        if (i + 1 >= this.text.length) return undefined;
        i += 2;
        continue;
      }
      if (c === '"') {
        const raw = this.text.slice(this.pos, i + 1);
        this.pos = i + 1;
        return raw;
      }
      i++;
    }
    return undefined;
  }
}

/** Removes the quotes and backslash escapes of a raw quoted-string; other strings are returned as is. */
export function unquote(s: string): string {
  if (s.length < 2 || !s.startsWith('"') || !s.endsWith('"')) return s;
  return s.slice(1, -1).replace(/\\(.)/gsu, '$1');
}

/** Quotes a string, escaping `"` and `\`. */
export const quote = (s: string): string => `"${s.replace(/["\\]/gu, (c) => `\\${c}`)}"`;

/**
 * Splits a header value on commas that are outside quoted strings and `<...>`.
 * Returns undefined when a quote or angle bracket is left open.
 */
export function splitList(value: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === '<') inAngle = true;
    else if (c === '>') inAngle = false;
    else if (c === ',' && !inAngle) {
      parts.push(trimWs(value.slice(start, i)));
      start = i + 1;
    }
  }
  if (inQuote || inAngle) return undefined;
  parts.push(trimWs(value.slice(start)));
  return parts;
}

/**
 * `*( SEMI generic-param )` with `generic-param = token [ EQUAL gen-value ]` and
 * `gen-value = token / host / quoted-string`. Empty (`;;`) and repeated parameters are refused.
 */
export function parseParams(sc: Scanner): Result<Map<string, string | null>> {
  const params = new Map<string, string | null>();
  for (;;) {
    sc.skipWs();
    if (sc.done) return ok(params);
    if (!sc.eat(';')) return fail(`unexpected "${sc.peek() ?? ''}" where a parameter was expected`);
    const name = sc.token();
    if (name === undefined) return fail('empty or malformed parameter');
    let value: string | null = null;
    if (sc.eat('=')) {
      const v = sc.peek() === '"' ? sc.quoted() : sc.while((c) => isTokenChar(c) || c === ':' || c === '[' || c === ']');
      if (v === undefined || v === '') return fail(`parameter ${name} has no value`);
      value = v;
    }
    const key = name.toLowerCase();
    if (params.has(key)) return fail(`parameter ${key} appears twice`);
    params.set(key, value);
  }
}

export const formatParams = (params: Params): string =>
  [...params].map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`)).join('');

const HOSTNAME = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?\.?$/iu;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/u;

export const isIPv4 = (s: string): boolean => IPV4.test(s);

/** `host = hostname / IPv4address / IPv6reference` (IPv6 in brackets). */
export function isHost(s: string): boolean {
  if (s.startsWith('[')) return s.endsWith(']') && isIPv6(s.slice(1, -1));
  return isIPv4(s) || (s.length <= 255 && HOSTNAME.test(s));
}

/** A port: 1 to 5 digits, at most 65535. */
export function parsePort(s: string): number | undefined {
  if (!/^\d{1,5}$/u.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** Splits `host[:port]`, IPv6 references included. */
export function parseHostPort(s: string): Result<{ host: string; port: number | undefined }> {
  let host = s;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return fail('unterminated IPv6 reference');
    host = s.slice(0, end + 1);
    const after = s.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return fail('garbage after IPv6 reference');
      portText = after.slice(1);
    }
  } else {
    const colon = s.indexOf(':');
    if (colon >= 0) {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
    }
  }
  if (!isHost(host)) return fail(`invalid host "${host}"`);
  if (portText === undefined) return ok({ host, port: undefined });
  const port = parsePort(portText);
  return port === undefined ? fail(`invalid port "${portText}"`) : ok({ host, port });
}

/** An unsigned decimal integer up to `max`, leading zeros allowed. */
export function parseUInt(s: string, max: number): number | undefined {
  if (!/^\d+$/u.test(s)) return undefined;
  const digits = s.replace(/^0+(?=\d)/u, '');
  if (digits.length > 16) return undefined;
  const n = Number(digits);
  return n <= max ? n : undefined;
}
