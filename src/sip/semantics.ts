/**
 * Checks a server applies to a request that parsed, before handing it to a
 * transaction user (RFC 3261 §8.2.2, §16.3): a refusal names the status to
 * answer with. Extension handling (Require → 420) belongs to the user agent.
 */
import { getHeader, type SipRequest } from './message.ts';

export interface Refusal {
  readonly status: number;
  readonly reason: string;
}

const SUPPORTED_SCHEMES = new Set(['sip', 'sips', 'tel']);
/** rfc1123-date of RFC 3261 §20.17, which must be in GMT. */
const DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?:0[1-9]|[12]\d|3[01]) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d GMT$/u;

export function checkRequest(req: SipRequest): Refusal | undefined {
  if (!SUPPORTED_SCHEMES.has(req.uri.scheme)) return { status: 416, reason: `unsupported Request-URI scheme ${req.uri.scheme}` };
  const date = getHeader(req, 'Date');
  if (date !== undefined && !DATE.test(date)) return { status: 400, reason: 'invalid Date header' };
  return undefined;
}
