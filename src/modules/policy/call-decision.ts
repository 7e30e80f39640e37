/**
 * The call policy as a pure decision (ARCHITECTURE: rules are pure functions), in this
 * order, each refusal with its clause:
 * 1. §13.1 terminated → nothing, emergency included;
 * 2. §8.7 emergency numbers always go through otherwise (emergency route, never rated,
 *    never counted by the live limits);
 * 3. §8.7 minimum service and §9.2 security suspension → every other call refused;
 * 4. §4.3b/§4.10 live limits that trip a security suspension (§9.2): call attempts per
 *    user per minute, international + premium spend per client per hour;
 * 5. §4.3b destination barring: premium `+3290` unless `enable: [premium]`, the high-risk
 *    list unless `enable: [international]`, every international call when the client's
 *    setting disables them;
 * 6. §4.3b concurrent outbound calls per client (refused, no suspension);
 * 7. §17.1 caller ID (RULES.md "Main number and caller ID").
 * Every refusal is SIP 403 (RULES.md "Calls in the report": a policy refusal is 403).
 */
import { isEmergency } from '../../kernel/e164.ts';
import type { ServiceState } from '../customers/schema.ts';

export const PREMIUM_PREFIX = '+3290';
export const BELGIAN_PREFIX = '+32';

/** Where a call goes, as the limits and the barring see it. */
export type DestinationClass = 'emergency' | 'internal' | 'national' | 'international' | 'high_risk' | 'premium' | 'unknown';

/** Classes whose spend counts towards the §4.3b hourly limit ("international + premium"). */
export const SPEND_CLASSES: ReadonlySet<DestinationClass> = new Set(['international', 'high_risk', 'premium']);
/** Classes that occupy an outbound slot (§4.3b concurrent outbound calls). */
export const OUTBOUND_CLASSES: ReadonlySet<DestinationClass> = new Set(['national', 'international', 'high_risk', 'premium']);

/** The live counters read (under the client's lock) just before the decision. */
export interface LimitFacts {
  /** Admitted outbound calls of the client not ended yet (rows older than 4 h count as ended), this one excluded. */
  readonly liveOutboundCalls: number;
  /** §4.3b: max(4, 2 × users) unless the client's setting says otherwise. */
  readonly maxConcurrentCalls: number;
  /** Non-emergency attempts of the calling user in the last minute (sliding), this one excluded. */
  readonly userAttemptsLastMinute: number;
  /** §4.3b: 20. */
  readonly maxAttemptsPerUserPerMinute: number;
  /** International + premium spend of the client in the last hour (sliding), live calls included, µ€. */
  readonly spendMicrosLastHour: number;
  /** §4.3b/§4.10: 50 € = 50 000 000 µ€. */
  readonly maxSpendMicrosPerHour: number;
}

export interface CallFacts {
  /** null: unknown client (treated as terminated, no service). */
  serviceState: ServiceState | null;
  /** The enabled options (`premium`, `international`): the contract's, or the client's setting. */
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
  /** §4.3b high-risk destination prefixes (E.164 prefixes); none when absent. */
  highRiskPrefixes?: readonly string[];
  /** false: international calls disabled for this client (§4.3b); default true. */
  internationalCalls?: boolean;
  /** The live counters; absent: no limit is checked (e.g. a simulation without them). */
  limits?: LimitFacts;
}

export type LimitKind = 'concurrent_calls' | 'call_attempts' | 'spend';

/** A limit crossed: the client must be put in security suspension (§9.2). */
export interface Trip {
  readonly limit: Exclude<LimitKind, 'concurrent_calls'>;
  /** The clause of the limit: 4.3b (mass calling) or 4.10 (hacking: fraudulent spend). */
  readonly clause: string;
  readonly observed: number;
  readonly max: number;
}

export type PolicyDecision =
  | {
      readonly allowed: true;
      readonly callerId: string | null;
      /** §17.1: true only when a presented caller ID was refused. */
      readonly callerIdReplaced: boolean;
      readonly emergency: boolean;
      /** §17.1 the caller's true number for P-Asserted-Identity: its own number, else the client's main number; null when none. */
      readonly assertedIdentity: string | null;
    }
  | {
      readonly allowed: false;
      readonly sipStatus: number;
      readonly clause: string;
      readonly reason: string;
      /** Present when this attempt crossed a limit: the caller suspends the client (§9.2). */
      readonly trip?: Trip;
    };

export type PolicyRefusal = Extract<PolicyDecision, { allowed: false }>;

const refuse = (clause: string, reason: string, sipStatus = 403): PolicyRefusal => ({ allowed: false, sipStatus, clause, reason });

/** The class of a destination (§4.3b): premium `+3290`, high-risk list, Belgian, other E.164. */
export function destinationClass(
  f: Pick<CallFacts, 'destination' | 'internal' | 'emergencyNumbers' | 'highRiskPrefixes'>,
): DestinationClass {
  if (f.internal) return 'internal';
  const d = f.destination;
  if (d === null) return 'unknown';
  if (isEmergency(d, f.emergencyNumbers)) return 'emergency';
  if (!d.startsWith('+')) return 'unknown';
  if (d.startsWith(PREMIUM_PREFIX)) return 'premium';
  if ((f.highRiskPrefixes ?? []).some((p) => d.startsWith(p))) return 'high_risk';
  return d.startsWith(BELGIAN_PREFIX) ? 'national' : 'international';
}

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

/**
 * §4.3b/§4.10 the limits that suspend: attempts ≤ max per user per minute (the attempt
 * that makes max + 1 trips), spend ≤ max per hour (1 µ€ above trips).
 */
export function limitTrip(l: LimitFacts): Trip | null {
  const attempts = l.userAttemptsLastMinute + 1;
  if (attempts > l.maxAttemptsPerUserPerMinute) {
    return { limit: 'call_attempts', clause: '4.3b', observed: attempts, max: l.maxAttemptsPerUserPerMinute };
  }
  return spendTrip(l.spendMicrosLastHour, l.maxSpendMicrosPerHour);
}

/** §4.10: the hourly international + premium spend crossed (strictly above the limit). */
export function spendTrip(spendMicros: number, maxMicros: number): Trip | null {
  return spendMicros > maxMicros ? { limit: 'spend', clause: '4.10', observed: spendMicros, max: maxMicros } : null;
}

export function decideCall(f: CallFacts): PolicyDecision {
  if (f.serviceState === null || f.serviceState === 'terminated') return refuse('13.1', 'Service terminated: no calls at all (§13.1)');
  const cls = destinationClass(f);
  const emergency = cls === 'emergency';
  if (!emergency) {
    if (f.serviceState === 'minimum_service') return refuse('8.7', 'Minimum service: only emergency numbers can be called (§8.7)');
    if (f.serviceState === 'security_suspended') return refuse('9.2', 'Security suspension: outbound calls blocked (§9.2)');
    const trip = f.limits ? limitTrip(f.limits) : null;
    if (trip !== null) {
      const what = trip.limit === 'call_attempts' ? `${trip.observed} call attempts in a minute (limit ${trip.max})` : `international and premium spend above the hourly limit`;
      return { ...refuse('9.2', `Security suspension: ${what} (§${trip.clause}, §9.2)`), trip };
    }
    // An unroutable destination (null) is not the policy's to judge: routing answers 404.
    if (cls === 'premium' && !f.enabled.includes('premium')) {
      return refuse('4.3b', 'Premium-rate numbers are barred unless the contract enables them (§4.3b)');
    }
    if (cls === 'high_risk' && !f.enabled.includes('international')) {
      return refuse('4.3b', 'High-risk destinations are barred unless the contract enables them (§4.3b)');
    }
    if ((cls === 'international' || cls === 'high_risk') && f.internationalCalls === false) {
      return refuse('4.3b', 'International calls are disabled for this client (§4.3b)');
    }
    if (f.limits && OUTBOUND_CLASSES.has(cls) && f.limits.liveOutboundCalls + 1 > f.limits.maxConcurrentCalls) {
      return refuse('4.3b', `Too many simultaneous outbound calls (limit ${f.limits.maxConcurrentCalls}) (§4.3b)`);
    }
  }
  const cli = decideCallerId(f);
  return { allowed: true, callerId: cli.callerId, callerIdReplaced: cli.replaced, emergency, assertedIdentity: f.userNumber ?? f.mainNumber };
}
