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

/**
 * The parameters of a URI or header that has none: one shared, read-only map. Most URIs of
 * a call (Request-URI, From, To, Contact) carry no parameter, and a `Map` each was ~10 maps
 * per message parsed, ~9 % of the bytes the node allocated per call (issue #4). Its `set`,
 * `delete` and `clear` throw, so that nobody can fill the map every message shares.
 */
export const NO_PARAMS: Params = (() => {
  const empty = new Map<string, string | null>();
  const refuse = (): never => {
    throw new TypeError('NO_PARAMS is shared and read-only: copy it (new Map(params)) to change it');
  };
  Object.defineProperties(empty, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(empty);
})();

/** A 128-entry table of the ASCII characters in `chars` (lookups by char code: no regex, no string per character). */
export function asciiTable(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  return table;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** §25.1 token characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~". */
const TOKEN_CHARS = asciiTable(`${ALNUM}-.!%*_+\`'~`);
/** A generic-param value outside quotes: token / host (IPv6 references included). */
const GEN_VALUE_CHARS = asciiTable(`${ALNUM}-.!%*_+\`'~:[]`);
export const DIGIT_CHARS = asciiTable('0123456789');
export const isTokenCode = (code: number): boolean => code < 128 && TOKEN_CHARS[code] === 1;
export const isTokenChar = (c: string): boolean => c.length === 1 && isTokenCode(c.charCodeAt(0));
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenCode(s.charCodeAt(i))) return false;
  return true;
}
const isWsCode = (code: number): boolean => code === 0x20 || code === 0x09;
/** Trims SP and HTAB only (String#trim would also eat U+FEFF and other Unicode spaces). */
export function trimWs(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWsCode(s.charCodeAt(start))) start++;
  while (end > start && isWsCode(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
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
    while (isWsCode(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Consumes `c` (after optional whitespace on both sides) if it is next. */
  eat(c: string): boolean {
    const start = this.pos;
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === c.charCodeAt(0)) {
      this.pos++;
      this.skipWs();
      return true;
    }
    this.pos = start;
    return false;
  }

  token(): string | undefined {
    const start = this.pos;
    this.skipIn(TOKEN_CHARS);
    return this.pos > start ? this.text.slice(start, this.pos) : undefined;
  }

  /** Consumes the characters found in an `asciiTable`; returns them (possibly empty). */
  takeIn(table: Uint8Array): string {
    const start = this.pos;
    this.skipIn(table);
    return this.text.slice(start, this.pos);
  }

  private skipIn(table: Uint8Array): void {
    const text = this.text;
    let pos = this.pos;
    for (let code = text.charCodeAt(pos); code < 128 && table[code] === 1; code = text.charCodeAt(++pos));
    this.pos = pos;
  }

  /** Consumes characters up to (not including) `c`, or to the end; returns them (possibly empty). */
  until(c: string): string {
    const start = this.pos;
    const at = this.text.indexOf(c, start);
    this.pos = at < 0 ? this.text.length : at;
    return this.text.slice(start, this.pos);
  }

  /** Consumes characters while `pred` holds; returns them (possibly empty). */
  while(pred: (c: string) => boolean): string {
    const start = this.pos;
    while (this.pos < this.text.length && pred(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** A quoted-string, returned raw (with its quotes and escapes); undefined if unterminated. */
  quoted(): string | undefined {
    if (this.text.charCodeAt(this.pos) !== 0x22) return undefined;
    const text = this.text;
    let i = this.pos + 1;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        if (i + 1 >= text.length) return undefined;
        i += 2;
        continue;
      }
      if (c === 0x22) {
        const raw = text.slice(this.pos, i + 1);
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
  const inner = s.slice(1, -1);
  // Most quoted strings hold no escape (the 8 of an Authorization, issue #4): no regex run for them.
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\(.)/gsu, '$1');
}

/** Quotes a string, escaping `"` and `\`. */
export const quote = (s: string): string => `"${s.replace(/["\\]/gu, (c) => `\\${c}`)}"`;

/**
 * Splits a header value on commas that are outside quoted strings and `<...>`.
 * Returns undefined when a quote or angle bracket is left open.
 */
export function splitList(value: string): string[] | undefined {
  // The usual single element without quotes: no scan in JavaScript.
  if (value.indexOf(',') < 0 && value.indexOf('"') < 0) {
    return value.lastIndexOf('<') > value.lastIndexOf('>') ? undefined : [trimWs(value)];
  }
  const parts: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      parts.push(trimWs(value.slice(start, i)));
      start = i + 1;
    }
  }
  if (inQuote || inAngle) return undefined;
  parts.push(start === 0 ? trimWs(value) : trimWs(value.slice(start)));
  return parts;
}

/**
 * `*( SEMI generic-param )` with `generic-param = token [ EQUAL gen-value ]` and
 * `gen-value = token / host / quoted-string`. Empty (`;;`) and repeated parameters are refused.
 */
export function parseParams(sc: Scanner): Result<Params> {
  let params: Map<string, string | null> | undefined; // made at the first parameter: NO_PARAMS otherwise
  for (;;) {
    sc.skipWs();
    if (sc.done) return ok(params ?? NO_PARAMS);
    if (!sc.eat(';')) return fail(`unexpected "${sc.peek() ?? ''}" where a parameter was expected`);
    const name = sc.token();
    if (name === undefined) return fail('empty or malformed parameter');
    let value: string | null = null;
    if (sc.eat('=')) {
      const v = sc.peek() === '"' ? sc.quoted() : sc.takeIn(GEN_VALUE_CHARS);
      if (v === undefined || v === '') return fail(`parameter ${name} has no value`);
      value = v;
    }
    const key = name.toLowerCase();
    params ??= new Map<string, string | null>();
    if (params.has(key)) return fail(`parameter ${key} appears twice`);
    params.set(key, value);
  }
}

export function formatParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

const HOSTNAME = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?\.?$/iu;

const isDigitCode = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlphaCode = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);

/** `IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet` (no leading zeros, each ≤ 255). */
export function isIPv4(s: string): boolean {
  let i = 0;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (s.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
    const start = i;
    let n = 0;
    while (i < s.length && i - start < 4 && isDigitCode(s.charCodeAt(i))) n = n * 10 + s.charCodeAt(i++) - 0x30;
    const len = i - start;
    if (len === 0 || len > 3 || n > 255 || (len > 1 && s.charCodeAt(start) === 0x30)) return false;
  }
  return i === s.length;
}

/** `hostname = *( domainlabel "." ) toplabel [ "." ]` (§25.1); non-ASCII text goes to the regex (its case folding). */
function isHostname(s: string): boolean {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 0x2e) end--;
  let labelStart = 0;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c >= 128) return HOSTNAME.test(s);
    if (c === 0x2e) {
      if (i === labelStart || s.charCodeAt(i - 1) === 0x2d) return false;
      if (i === end) return isAlphaCode(s.charCodeAt(labelStart));
      labelStart = i + 1;
    } else if (!(isAlphaCode(c) || isDigitCode(c) || (c === 0x2d && i > labelStart))) return false;
  }
  return false;
}

/** `host = hostname / IPv4address / IPv6reference` (IPv6 in brackets). */
export function isHost(s: string): boolean {
  if (s.startsWith('[')) return s.endsWith(']') && isIPv6(s.slice(1, -1));
  return isIPv4(s) || (s.length <= 255 && isHostname(s));
}

/** A port: 1 to 5 digits, at most 65535. */
export function parsePort(s: string): number | undefined {
  if (s.length === 0 || s.length > 5) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigitCode(c)) return undefined;
    n = n * 10 + c - 0x30;
  }
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
  const len = s.length;
  if (len === 0) return undefined;
  for (let i = 0; i < len; i++) if (!isDigitCode(s.charCodeAt(i))) return undefined;
  let i = 0;
  while (i < len - 1 && s.charCodeAt(i) === 0x30) i++;
  if (len - i > 16) return undefined;
  let n: number;
  if (len - i <= 15) {
    n = 0;
    for (; i < len; i++) n = n * 10 + s.charCodeAt(i) - 0x30;
  } else n = Number(s.slice(i));
  return n <= max ? n : undefined;
}

/**
 * The results of a pure parse, by the text parsed: the valid ones of the last `size` to
 * `2 × size` distinct texts (two generations: a full one becomes the older and is dropped
 * at the next turn), texts longer than `maxLength` not kept. Within a call the same header
 * texts come again and again: the caller's From in its INVITE, ACK, INVITE with credentials,
 * ACK and BYE; the callee's From and To in its 180, 200 and the 200 to the BYE; a phone's
 * Contact; the trunk's Request-URI (issue #4: the name-addr and URI parses were ~9 % of the
 * CPU and ~12 % of the bytes a call allocated). The values handed out are shared: they are
 * read-only values (`Params` is a `ReadonlyMap`), as every parsed message's are.
 */
export class ParseMemo<T> {
  private recent = new Map<string, Result<T>>();
  private older = new Map<string, Result<T>>();

  constructor(
    private readonly parse: (text: string) => Result<T>,
    private readonly size = 1024,
    private readonly maxLength = 256,
  ) {}

  get(text: string): Result<T> {
    const hit = this.recent.get(text);
    if (hit !== undefined) return hit;
    if (text.length > this.maxLength) return this.parse(text);
    let r = this.older.get(text);
    let key = text;
    if (r === undefined) {
      // Kept and parsed as a copy of its own: `text` is often a slice of a whole message's
      // head (up to 64 KB), which the entry and the strings of its value would keep alive.
      key = ownCopy(text);
      r = this.parse(key);
      if (!r.ok) return r;
    }
    if (this.recent.size >= this.size) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(key, r);
    return r;
  }
}

/**
 * The same text in a string of its own (V8 flattens the concatenation before slicing it), not a
 * view into a larger one: a substring of a message's text, kept, keeps the whole text alive.
 */
export const ownCopy = (text: string): string => ` ${text}`.slice(1);
