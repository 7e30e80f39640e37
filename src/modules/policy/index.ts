/** The policy module's public API: the call policy (§13.1, §8.7, §9.2, §4.3b, §4.10, §17.1). */
export {
  decideCall,
  decideCallerId,
  destinationClass,
  limitTrip,
  spendTrip,
  PREMIUM_PREFIX,
  type CallFacts,
  type DestinationClass,
  type LimitFacts,
  type PolicyDecision,
  type Trip,
} from './call-decision.ts';
export { dbCallPolicy, sweepLiveSpend, type DbCallPolicy, type DbCallPolicyOptions, type RecordedDecision } from './db-call-policy.ts';
export { DEFAULT_LIMITS, defaultMaxConcurrent, callSpendMicros, spendMicros } from './limits.ts';
export { liftSecuritySuspension } from './security-suspension.ts';
export { DEFAULT_HIGH_RISK_PREFIXES } from './settings.ts';
