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

export function serializeMessage(msg: SipMessage): Uint8Array {
  const head = [startLine(msg), ...msg.headers.map((h) => `${h.name}: ${h.value}`)].join('\r\n') + '\r\n\r\n';
  const headBytes = Buffer.from(head, 'utf8');
  const out = new Uint8Array(headBytes.length + msg.body.length);
  out.set(headBytes, 0);
  out.set(msg.body, headBytes.length);
  return out;
}
