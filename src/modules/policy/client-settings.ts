/** GET/PATCH of a client's policy settings (§4.3b/§4.10): staff write, the client's admin reads its own; audited. */
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { notifyChange } from '../../db/changes.ts';
import type { DbOrTx } from '../../db/client.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { contractStatusOf } from '../customers/contract-status.ts';
import { clients } from '../customers/schema.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { countUsersAt } from '../provisioning/user-store.ts';
import { policyClientSettings } from './schema.ts';
import { lockClientPolicy } from './security-suspension.ts';
import {
  clientSettingsRow,
  effectiveSettings,
  overridesOf,
  platformHighRiskPrefixes,
  POLICY_OPTIONS,
  setPlatformHighRiskPrefixes,
  type PolicySettingsView,
} from './settings.ts';

export const POLICY_WRITE_ROLES = ['admin', 'noc'] as const;
export const POLICY_READ_ROLES = ['admin', 'billing', 'support', 'noc', 'client_admin'] as const;

const PREFIX = /^\+[1-9]\d{0,14}$/;

export interface PolicySettingsPatch {
  maxConcurrentCalls?: number | null | undefined;
  attemptsPerUserPerMinute?: number | null | undefined;
  spendLimitCentsPerHour?: number | null | undefined;
  internationalCalls?: boolean | null | undefined;
  enabled?: string[] | null | undefined;
  highRiskPrefixes?: string[] | null | undefined;
}

async function view(db: DbOrTx, clientId: string, at: Date): Promise<PolicySettingsView> {
  const [client] = await db.select({ id: clients.id }).from(clients).where(eq(clients.id, clientId)).limit(1);
  if (!client) throw notFound('client', clientId);
  const row = await clientSettingsRow(db, clientId);
  const contract = await contractStatusOf(db, clientId);
  const effective = effectiveSettings(row, {
    users: await countUsersAt(db, clientId, at),
    contractEnabled: contract.enabled,
    platformHighRisk: await platformHighRiskPrefixes(db),
  });
  return {
    clientId,
    effective,
    overrides: overridesOf(row),
    countersResetAt: row?.countersResetAt?.toISOString() ?? null,
    updatedAt: row?.updatedAt.toISOString() ?? null,
  };
}

export async function getPolicySettings(ctx: AppContext, o: { principal: AuditActor; clientId: string }): Promise<PolicySettingsView> {
  if (o.principal !== 'system') assertTenant(o.principal, o.clientId, { entity: 'client', entityId: o.clientId });
  return view(ctx.db, o.clientId, ctx.clock.now());
}

function checkPatch(p: PolicySettingsPatch): void {
  for (const [field, v] of [
    ['maxConcurrentCalls', p.maxConcurrentCalls],
    ['attemptsPerUserPerMinute', p.attemptsPerUserPerMinute],
    ['spendLimitCentsPerHour', p.spendLimitCentsPerHour],
  ] as const) {
    if (v !== undefined && v !== null && (!Number.isSafeInteger(v) || v < 0)) throw validationError(`/${field}`, 'a whole number ≥ 0, or null for the default');
  }
  p.enabled?.forEach((o, i) => {
    if (!(POLICY_OPTIONS as readonly string[]).includes(o)) throw validationError(`/enabled/${i}`, `must be one of ${POLICY_OPTIONS.join(', ')}`);
  });
  p.highRiskPrefixes?.forEach((x, i) => {
    if (!PREFIX.test(x)) throw validationError(`/highRiskPrefixes/${i}`, 'must be an E.164 prefix like +881');
  });
}

/** Staff change the client's settings; `null` resets one to its default. */
export async function updatePolicySettings(
  ctx: AppContext,
  o: { principal: AuditActor; clientId: string; patch: PolicySettingsPatch; requestId?: string },
): Promise<PolicySettingsView> {
  checkPatch(o.patch);
  const at = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await view(tx, o.clientId, at);
    await lockClientPolicy(tx, o.clientId);
    const set: Partial<typeof policyClientSettings.$inferInsert> = { updatedAt: at };
    for (const k of ['maxConcurrentCalls', 'attemptsPerUserPerMinute', 'spendLimitCentsPerHour', 'internationalCalls', 'enabled', 'highRiskPrefixes'] as const) {
      if (o.patch[k] !== undefined) (set as Record<string, unknown>)[k] = o.patch[k];
    }
    await tx
      .insert(policyClientSettings)
      .values({ clientId: o.clientId, ...set, updatedAt: at })
      .onConflictDoUpdate({ target: policyClientSettings.clientId, set });
    await notifyChange(tx, 'client', o.clientId); // issue #7: the next call on this node sees it
    const after = await view(tx, o.clientId, at);
    await recordAudit(tx, {
      at,
      actor: o.principal,
      action: 'policy.settings.update',
      entity: 'client',
      entityId: o.clientId,
      clientId: o.clientId,
      before: before.overrides,
      after: after.overrides,
      clause: '4.3b',
      requestId: o.requestId ?? null,
    });
    return after;
  });
}

/** Staff replace the platform's high-risk destination list (§4.3b), audited; SIP nodes pick it up within their cache time. */
export async function updatePlatformHighRisk(
  ctx: AppContext,
  o: { principal: AuditActor; prefixes: string[]; requestId?: string },
): Promise<{ highRiskPrefixes: string[] }> {
  o.prefixes.forEach((x, i) => {
    if (!PREFIX.test(x)) throw validationError(`/highRiskPrefixes/${i}`, 'must be an E.164 prefix like +881');
  });
  const at = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await platformHighRiskPrefixes(tx);
    await setPlatformHighRiskPrefixes(tx, o.prefixes, at);
    await recordAudit(tx, {
      at,
      actor: o.principal,
      action: 'policy.high_risk.update',
      entity: 'setting',
      entityId: 'policy.highRiskPrefixes',
      clientId: null,
      before: { highRiskPrefixes: before },
      after: { highRiskPrefixes: o.prefixes },
      clause: '4.3b',
      requestId: o.requestId ?? null,
    });
    return { highRiskPrefixes: [...o.prefixes] };
  });
}
