/**
 * Writes a message back to bytes: start line, headers in their order (long
 * names, unfolded values), empty line, body. Content-Length is written as the
 * message carries it; `builders.ts` keeps it in step with the body.
 */
import type { SipMessage } from './message.ts';
import { formatUri } from './uri.ts';

export function startLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${formatUri(msg.uri)} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

/**
 * A Buffer (a Uint8Array) from Node's allocation pool: every byte is written,
 * head then body, so nothing uninitialised leaks. `kept`: bytes held long after
 * they are sent (a final response for retransmissions, an ACK: up to 32 s) get
 * an allocation of their own, since a small slice of the pool keeps its whole
 * 8 KiB slab alive (≈ 3 KB per call in bench:sip, issue #4).
 */
export function serializeMessage(msg: SipMessage, kept = false): Uint8Array {
  let head = startLine(msg);
  for (const h of msg.headers) head += `\r\n${h.name}: ${h.value}`;
  head += '\r\n\r\n';
  if (msg.body.length === 0 && !kept) return Buffer.from(head, 'utf8');
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = kept ? Buffer.allocUnsafeSlow(headLength + msg.body.length) : Buffer.allocUnsafe(headLength + msg.body.length);
  out.write(head, 0, 'utf8');
  out.set(msg.body, headLength);
  return out;
}
