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
export { memoryAdmissionStore, type AdmissionStore } from './admission-store.ts';
export { fastCallPolicy, type FastCallPolicy, type FastCallPolicyOptions } from './fast-call-policy.ts';
export { redisAdmissionStore, type RedisAdmissionStore } from './redis-admission-store.ts';
export { purgeDecisions } from './retention.ts';
export { startCallPolicy, type PolicyRuntime, type PolicyRuntimeOptions } from './runtime.ts';
export { DEFAULT_LIMITS, defaultMaxConcurrent, callSpendMicros, spendMicros } from './limits.ts';
export { liftSecuritySuspension } from './security-suspension.ts';
export { DEFAULT_HIGH_RISK_PREFIXES } from './settings.ts';
