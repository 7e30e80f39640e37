/**
 * The SIP message model. A message keeps its raw headers in wire order (names in
 * their long canonical form, values unfolded) so that it can be serialised
 * faithfully, plus typed views of the headers every layer of the stack needs.
 * Messages are immutable values; build new ones with `builders.ts`.
 */
import { type CSeq, type Contact, type NameAddr, type Via, canonicalName, isListHeader, parseDeltaSeconds } from './headers.ts';
import { splitList, unquote } from './syntax.ts';
import type { Uri } from './uri.ts';

export interface Header {
  /** Canonical long name for known headers (`Call-ID`, `Via`), as written otherwise. */
  readonly name: string;
  /** Unfolded value, without leading/trailing whitespace. */
  readonly value: string;
}

interface MessageBase {
  readonly headers: readonly Header[];
  readonly body: Uint8Array;
  /** All Via values in order, the topmost first. */
  readonly via: readonly Via[];
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
  readonly maxForwards: number | undefined;
  readonly contentLength: number | undefined;
  readonly contact: readonly Contact[];
  readonly route: readonly NameAddr[];
  readonly recordRoute: readonly NameAddr[];
}

export interface SipRequest extends MessageBase {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: Uri;
}

export interface SipResponse extends MessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * A test for the headers named `name` (any spelling or compact form). The name asked is
 * made canonical once; a header is compared only when its name could be that one (the
 * parser stores known names canonical, so most are told apart by one string comparison):
 * two canonical lower-cased names per header and per lookup were ≈ 2 % of a REGISTER's CPU (issue #4).
 */
function named(name: string): (h: Header) => boolean {
  const key = canonicalName(name).toLowerCase();
  return (h) => h.name === name || ((h.name.length === key.length || h.name.length === 1) && canonicalName(h.name).toLowerCase() === key);
}

/** Value of the first header with that name (any spelling or compact form). */
export function getHeader(msg: Pick<SipMessage, 'headers'>, name: string): string | undefined {
  return msg.headers.find(named(name))?.value;
}

/** All values of a header, comma-separated lists split into their elements. */
export function getHeaderValues(msg: Pick<SipMessage, 'headers'>, name: string): string[] {
  const values = msg.headers.filter(named(name)).map((h) => h.value);
  if (values.length === 0 || !isListHeader(name)) return values;
  return values.flatMap((v) => splitList(v) ?? [v]).filter((v) => v !== '');
}

export const paramValue = (params: ReadonlyMap<string, string | null>, name: string): string | undefined => {
  const v = params.get(name.toLowerCase());
  return v === null || v === undefined ? undefined : unquote(v);
};

export const fromTag = (msg: SipMessage): string | undefined => paramValue(msg.from.params, 'tag');
export const toTag = (msg: SipMessage): string | undefined => paramValue(msg.to.params, 'tag');
export const topVia = (msg: SipMessage): Via => msg.via[0]!;

/** The Expires header in seconds (overlarge values clamp to 2^32-1), undefined when absent or malformed. */
export function getExpires(msg: SipMessage): number | undefined {
  const v = getHeader(msg, 'Expires');
  return v === undefined ? undefined : parseDeltaSeconds(v);
}

/** The expires parameter of a Contact value, if valid. */
export function contactExpires(c: Contact): number | undefined {
  if (c.star) return undefined;
  const v = paramValue(c.params, 'expires');
  return v === undefined ? undefined : parseDeltaSeconds(v);
}

/** The q parameter of a Contact value (RFC 3261 §20.10), 1 when absent. */
export function contactQ(c: Contact): number {
  if (c.star) return 1;
  const q = paramValue(c.params, 'q');
  return q === undefined ? 1 : Number(q);
}
