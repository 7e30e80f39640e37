/** The policy module's public API: the call policy v1 (§13.1, §8.7, §9.2, §4.3b, §17.1). */
export { decideCall, decideCallerId, PREMIUM_PREFIX, type CallFacts, type PolicyDecision } from './call-decision.ts';
export { dbCallPolicy, type DbCallPolicy, type DbCallPolicyOptions } from './db-call-policy.ts';
