/**
 * Where requests come from and responses go (RFC 3261 §18.2.1, §18.2.2 and
 * RFC 3581): the server stamps `received`/`rport` on the top Via of a request
 * and sends responses back accordingly.
 */
import { parseVia, type Via } from './headers.ts';
import type { Header, SipRequest } from './message.ts';
import { splitList } from './syntax.ts';
import type { Endpoint, Source } from './transport.ts';

/**
 * Adds `received` when the sent-by host is not the source address, and fills a
 * valueless `rport` with the source port (RFC 3581 §4).
 */
export function stampReceived(req: SipRequest, remote: Endpoint): SipRequest {
  const top = req.via[0]!;
  const needsReceived = top.host !== remote.address && top.received === undefined;
  const needsRport = top.rport === true;
  if (!needsReceived && !needsRport) return req;
  const index = req.headers.findIndex((h) => h.name === 'Via');
  const header = req.headers[index]!;
  const single = header.value.indexOf(',') < 0;
  const values = single ? [header.value] : (splitList(header.value) ?? [header.value]);
  let first = values[0]!;
  if (needsRport) first = first.replace(VALUELESS_RPORT, `;rport=${remote.port}`);
  if (needsReceived) first = `${first};received=${remote.address}`;
  // The usual request (issue #4: every REGISTER of a phone behind NAT asks rport): one Via
  // value, an IPv4 source, the rport found — its typed view stamped without parsing the Via
  // again, with the values and parameters the parse of `first` would give (routing.test.ts).
  const typedStamp = single && IPV4.test(remote.address) && Number.isInteger(remote.port) && remote.port >= 1 && remote.port <= 65535 && (!needsRport || first !== header.value);
  const stamped = typedStamp ? stampedVia(top, remote, needsReceived, needsRport) : parseVia(first);
  if (!stamped.ok) return req;
  const headers: Header[] = [...req.headers];
  headers[index] = { name: 'Via', value: [first, ...values.slice(1)].join(', ') };
  const via: Via[] = [stamped.value, ...req.via.slice(1)];
  return { ...req, headers, via };
}

const VALUELESS_RPORT = /;[ \t]*rport(?=[ \t]*(?:;|$))/iu;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/u;

/** `top` with the `rport` / `received` that `stampReceived` writes into its text. */
function stampedVia(top: Via, remote: Endpoint, needsReceived: boolean, needsRport: boolean): { ok: true; value: Via } {
  const params = new Map(top.params);
  if (needsRport) params.set('rport', String(remote.port));
  if (needsReceived) params.set('received', remote.address);
  return { ok: true, value: { ...top, params, rport: needsRport ? remote.port : top.rport, received: needsReceived ? remote.address : top.received } };
}

/** Where to send a response to a request received from `source` (RFC 3261 §18.2.2, RFC 3581 §4). */
export function responseDestination(via: Via, source: Source): Endpoint {
  if (source.transport.reliable) return source.remote;
  if (via.maddr !== undefined) return { address: via.maddr, port: via.port ?? 5060 };
  if (typeof via.rport === 'number') return { address: via.received ?? source.remote.address, port: via.rport };
  return { address: via.received ?? via.host, port: via.port ?? 5060 };
}
