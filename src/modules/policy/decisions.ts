/** Explainability (RULES.md: every decision says why): a recorded decision by id, and staff simulation. */
import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { EMERGENCY_NUMBERS } from '../../kernel/e164.ts';
import { notFound } from '../../kernel/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { assertTenant } from '../identity/tenancy.ts';
import type { ServiceState } from '../customers/schema.ts';
import { decideCall, destinationClass, type DestinationClass, type LimitFacts, type PolicyDecision } from './call-decision.ts';
import { policyDecisions } from './schema.ts';
import { DEFAULT_HIGH_RISK_PREFIXES } from './settings.ts';

export interface DecisionView {
  id: string;
  clientId: string;
  userId: string | null;
  direction: string;
  dialled: string;
  destination: string | null;
  destinationClass: string;
  perMinuteMicros: number;
  allowed: boolean;
  sipStatus: number | null;
  clause: string | null;
  reason: string | null;
  callerId: string | null;
  callerIdReplaced: boolean;
  emergency: boolean;
  facts: Record<string, unknown>;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
}

/** One decision; a client principal only reaches its own (another tenant's: 404, audited). */
export async function getDecision(db: DbOrTx, o: { principal: Principal; id: string }): Promise<DecisionView> {
  const [r] = await db.select().from(policyDecisions).where(eq(policyDecisions.id, o.id)).limit(1);
  if (!r) throw notFound('policy decision', o.id);
  assertTenant(o.principal, r.clientId, { entity: 'policy_decision', entityId: o.id });
  return {
    ...r,
    startedAt: r.startedAt.toISOString(),
    answeredAt: r.answeredAt?.toISOString() ?? null,
    endedAt: r.endedAt?.toISOString() ?? null,
  };
}

export interface SimulationInput {
  serviceState: ServiceState | null;
  enabled?: string[];
  destination: string | null;
  internal?: boolean;
  presentedCallerId?: string | null;
  privacy?: boolean;
  clientNumbers?: string[];
  userNumber?: string | null;
  mainNumber?: string | null;
  emergencyNumbers?: string[];
  highRiskPrefixes?: string[];
  internationalCalls?: boolean;
  limits?: LimitFacts;
}

/** Facts in, decision out: the pure decision, nothing read, nothing recorded. */
export function simulateDecision(i: SimulationInput): { decision: PolicyDecision; destinationClass: DestinationClass } {
  const facts = {
    serviceState: i.serviceState,
    enabled: i.enabled ?? [],
    destination: i.destination,
    internal: i.internal ?? false,
    presentedCallerId: i.presentedCallerId ?? null,
    privacy: i.privacy ?? false,
    clientNumbers: new Set(i.clientNumbers ?? []),
    userNumber: i.userNumber ?? null,
    mainNumber: i.mainNumber ?? null,
    emergencyNumbers: i.emergencyNumbers ?? EMERGENCY_NUMBERS,
    highRiskPrefixes: i.highRiskPrefixes ?? DEFAULT_HIGH_RISK_PREFIXES,
    internationalCalls: i.internationalCalls ?? true,
    ...(i.limits ? { limits: i.limits } : {}),
  };
  return { decision: decideCall(facts), destinationClass: destinationClass(facts) };
}
