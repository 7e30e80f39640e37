/**
 * The call policy v1 as a pure decision (ARCHITECTURE: rules are pure functions):
 * §13.1 terminated → nothing, emergency included; §8.7 emergency numbers always go
 * through otherwise (emergency route, never rated); §8.7 minimum service and §9.2
 * security suspension → every other call refused; §4.3b premium `+3290` barred unless
 * enabled; §17.1 caller ID (RULES.md "Main number and caller ID").
 */
import { isEmergency } from '../../kernel/e164.ts';
import type { ServiceState } from '../customers/schema.ts';

export const PREMIUM_PREFIX = '+3290';

export interface CallFacts {
  /** null: unknown client (treated as terminated, no service). */
  serviceState: ServiceState | null;
  /** The contract's enabled options (`premium`, `international`). */
  enabled: readonly string[];
  /** E.164 or a short number; the extension for an internal call; null when it did not normalise. */
  destination: string | null;
  internal: boolean;
  presentedCallerId: string | null;
  privacy: boolean;
  /** Numbers assigned to the client (a §8.6 pending release included). */
  clientNumbers: ReadonlySet<string>;
  /** The calling user's own number (its earliest assigned); null when none. */
  userNumber: string | null;
  /** The client's main number; null when none. */
  mainNumber: string | null;
  emergencyNumbers: readonly string[];
}

export type PolicyDecision =
  | {
      readonly allowed: true;
      readonly callerId: string | null;
      /** §17.1: true only when a presented caller ID was refused. */
      readonly callerIdReplaced: boolean;
      readonly emergency: boolean;
    }
  | { readonly allowed: false; readonly sipStatus: number; readonly clause: string; readonly reason: string };

const refuse = (clause: string, reason: string, sipStatus = 403): PolicyDecision => ({ allowed: false, sipStatus, clause, reason });

/** §17.1: the caller ID presented to the network, and whether a presented one was replaced. */
export function decideCallerId(f: Pick<CallFacts, 'presentedCallerId' | 'privacy' | 'clientNumbers' | 'userNumber' | 'mainNumber'>): {
  callerId: string | null;
  replaced: boolean;
} {
  if (f.privacy) return { callerId: null, replaced: false }; // anonymous presentation stays allowed
  const own = f.userNumber ?? f.mainNumber;
  if (f.presentedCallerId === null || f.presentedCallerId === '') return { callerId: own, replaced: false };
  if (f.clientNumbers.has(f.presentedCallerId)) return { callerId: f.presentedCallerId, replaced: false };
  return { callerId: own, replaced: true };
}

export function decideCall(f: CallFacts): PolicyDecision {
  if (f.serviceState === null || f.serviceState === 'terminated') return refuse('13.1', 'Service terminated: no calls at all (§13.1)');
  const emergency = !f.internal && f.destination !== null && isEmergency(f.destination, f.emergencyNumbers);
  if (!emergency) {
    if (f.serviceState === 'minimum_service') return refuse('8.7', 'Minimum service: only emergency numbers can be called (§8.7)');
    if (f.serviceState === 'security_suspended') return refuse('9.2', 'Security suspension: outbound calls blocked (§9.2)');
    // An unroutable destination (null) is not the policy's to judge: routing answers 404.
    if (!f.internal && f.destination !== null && f.destination.startsWith(PREMIUM_PREFIX) && !f.enabled.includes('premium')) {
      return refuse('4.3b', 'Premium-rate numbers are barred unless the contract enables them (§4.3b)');
    }
  }
  const cli = decideCallerId(f);
  return { allowed: true, callerId: cli.callerId, callerIdReplaced: cli.replaced, emergency };
}
