/**
 * Where the branches of a call go (pure): a user's bindings (internal and inbound
 * calls), or an upstream SIP peer (carrier trunk, emergency route) with the
 * Request-URI `sip:NUMBER@host:port`; and who the caller claims to be (§17.1, RFC 3323/3325).
 */
import type { SipTrunk } from '../config.ts';
import { type Header, type SipRequest, type Transport, getHeader, getHeaderValues, parseNameAddr, parseUri } from '../sip/index.ts';
import { type ForkTarget, asE164, uriUser } from './call-legs.ts';
import type { Binding } from './location.ts';

/** One branch per binding (the contact as Request-URI, sent to the binding's source address over its transport). */
export function bindingTargets(
  bindings: readonly Binding[],
  o: { from: string; to: string; transportFor: (protocol: string) => Transport | undefined; fallback: Transport },
): ForkTarget[] {
  return bindings.flatMap((b) => {
    const uri = parseUri(b.contactUri);
    if (!uri.ok) return [];
    return [
      {
        uri: uri.value,
        destination: { address: b.sourceAddress, port: b.sourcePort },
        transport: o.transportFor(b.sourceTransport.toUpperCase()) ?? o.fallback,
        from: o.from,
        to: o.to,
        headers: [],
      },
    ];
  });
}

/** The branch to an upstream peer: Request-URI and To `sip:NUMBER@host`, the identity headers given. */
export function trunkTarget(
  route: SipTrunk,
  number: string,
  identity: { from: string; headers: readonly Header[] },
  o: { transportFor: (protocol: string) => Transport | undefined; fallback: Transport },
): ForkTarget {
  const host = route.host.includes(':') ? `[${route.host}]` : route.host;
  const uri = parseUri(`sip:${number}@${host}:${route.port}${route.transport === 'TCP' ? ';transport=tcp' : ''}`);
  if (!uri.ok) throw new TypeError(`bad trunk URI: ${uri.error}`);
  return {
    uri: uri.value,
    destination: { address: route.host, port: route.port },
    transport: o.transportFor(route.transport) ?? o.fallback,
    from: identity.from,
    to: `<sip:${number}@${host}>`,
    headers: identity.headers,
  };
}

/** RFC 3323: the caller asked for privacy (`Privacy: id|user|header`, or an anonymous From). */
export function wantsPrivacy(req: SipRequest): boolean {
  return getHeaderValues(req, 'Privacy').some((v) => /^(id|user|header)$/iu.test(v.trim())) || uriUser(req.from.uri).toLowerCase() === 'anonymous';
}

/**
 * The caller ID a phone presents (P-Preferred-Identity, RFC 3325, else the From user), as
 * E.164 when it is a number. The phone's own extension or username is its address, not a
 * presented caller ID (§17.1 judges numbers): null then, and under privacy.
 */
export function presentedCallerId(req: SipRequest, caller: { extension: string; username: string }): string | null {
  const preferred = getHeader(req, 'P-Preferred-Identity');
  const parsed = preferred === undefined ? undefined : parseNameAddr(preferred);
  const claimed = parsed?.ok === true ? uriUser(parsed.value.uri) : uriUser(req.from.uri);
  if (claimed === '' || claimed === caller.extension || claimed === caller.username || wantsPrivacy(req)) return null;
  return asE164(claimed) ?? claimed;
}

/** The caller's number as a trusted carrier presents it (P-Asserted-Identity, else From), E.164; null when withheld (`Privacy`). */
export function carrierCallerNumber(req: SipRequest): string | null {
  if (getHeaderValues(req, 'Privacy').some((v) => /^(id|user|header)$/iu.test(v.trim()))) return null;
  const asserted = getHeader(req, 'P-Asserted-Identity');
  const pai = asserted === undefined ? undefined : parseNameAddr(asserted);
  return asE164(pai?.ok === true ? uriUser(pai.value.uri) : uriUser(req.from.uri));
}
