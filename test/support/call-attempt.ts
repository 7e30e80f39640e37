/** The outbound call attempt the policy tests ask about: extension 101 of a client dials `to` (already E.164), no caller ID presented. */
import { newId } from '../../src/kernel/ids.ts';
import type { CallAttempt } from '../../src/telephony/policy.ts';

export const outboundAttempt = (clientId: string, to = '+3243000000', userId = newId(new Date())): CallAttempt => ({
  clientId,
  userId,
  fromExtension: '101',
  dialled: to,
  normalised: to,
  presentedCallerId: null,
  privacy: false,
});
