/**
 * Who the carrier sees calling (pure): the From, P-Asserted-Identity (RFC 3325) and
 * Privacy (RFC 3323) headers of an INVITE sent to the trunk or the emergency route,
 * from the caller ID the call policy decided (§17.1) and the user's true identity.
 */
import type { Header } from '../sip/index.ts';

export const ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>';

export interface TrunkIdentityInput {
  /** The caller ID the policy decided (§17.1); null = anonymous or none. */
  readonly callerId: string | null;
  /** The user's own number, else the client's main number (RULES "Main number and caller ID"); null when none. */
  readonly trueIdentity: string | null;
  /** The caller asked for privacy (RFC 3323). */
  readonly privacy: boolean;
  /** §8.7 emergency route: the callback number is always presented. */
  readonly emergency: boolean;
  /** Our SIP domain, the host of the identities we assert. */
  readonly domain: string;
}

export interface TrunkIdentity {
  /** The From value without its tag. */
  readonly from: string;
  readonly headers: Header[];
  /** The number presented in From (null when anonymous). */
  readonly presented: string | null;
}

const identityUri = (number: string, domain: string): string => `<sip:${number}@${domain};user=phone>`;

export function trunkIdentity(i: TrunkIdentityInput): TrunkIdentity {
  // §8.7: the emergency service gets a callback number, privacy or not.
  const shown = i.emergency ? (i.callerId ?? i.trueIdentity) : i.callerId;
  if (shown !== null) {
    return { from: identityUri(shown, i.domain), presented: shown, headers: [{ name: 'P-Asserted-Identity', value: identityUri(shown, i.domain) }] };
  }
  // RFC 3323/3325: anonymous From, the true identity asserted to the trusted carrier only, with Privacy: id.
  const headers: Header[] = [];
  if (i.trueIdentity !== null) headers.push({ name: 'P-Asserted-Identity', value: identityUri(i.trueIdentity, i.domain) });
  if (i.privacy) headers.push({ name: 'Privacy', value: 'id' });
  return { from: ANONYMOUS_FROM, presented: null, headers };
}
