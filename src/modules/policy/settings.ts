/**
 * Per-client policy settings (§4.3b/§4.10) with the defaults of RULES.md, and the
 * platform-wide high-risk destination list. A null setting means "the default".
 */
import { eq } from 'drizzle-orm';
import { settings } from '../../db/settings-schema.ts';
import { notifyChange } from '../../db/changes.ts';
import type { DbOrTx } from '../../db/client.ts';
import { DEFAULT_LIMITS, defaultMaxConcurrent } from './limits.ts';
import { policyClientSettings } from './schema.ts';

export type ClientSettingsRow = typeof policyClientSettings.$inferSelect;

/**
 * §4.3b "a configurable list of high-risk destinations": RULES.md gives no default list;
 * ours is the international networks without a country (satellite and global services,
 * +881 / +882 / +883), the usual target of revenue-share fraud. Platform setting
 * `policy.highRiskPrefixes`; a client setting replaces it.
 */
export const DEFAULT_HIGH_RISK_PREFIXES: readonly string[] = ['+881', '+882', '+883'];
export const HIGH_RISK_KEY = 'policy.highRiskPrefixes';

export const POLICY_OPTIONS = ['premium', 'international'] as const;

/** The settings as they apply, with where each came from. */
export interface EffectivePolicySettings {
  maxConcurrentCalls: number;
  attemptsPerUserPerMinute: number;
  spendLimitCentsPerHour: number;
  internationalCalls: boolean;
  enabled: string[];
  highRiskPrefixes: string[];
}

export interface PolicySettingsView {
  clientId: string;
  /** What applies now (defaults filled in). */
  effective: EffectivePolicySettings;
  /** The client's own settings; null = the default. */
  overrides: {
    maxConcurrentCalls: number | null;
    attemptsPerUserPerMinute: number | null;
    spendLimitCentsPerHour: number | null;
    internationalCalls: boolean | null;
    enabled: string[] | null;
    highRiskPrefixes: string[] | null;
  };
  countersResetAt: string | null;
  updatedAt: string | null;
}

export async function clientSettingsRow(db: DbOrTx, clientId: string): Promise<ClientSettingsRow | null> {
  const [row] = await db.select().from(policyClientSettings).where(eq(policyClientSettings.clientId, clientId)).limit(1);
  return row ?? null;
}

/** The platform's high-risk list (setting `policy.highRiskPrefixes`, default above). */
export async function platformHighRiskPrefixes(db: DbOrTx): Promise<string[]> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, HIGH_RISK_KEY)).limit(1);
  const v = row?.value;
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v) : [...DEFAULT_HIGH_RISK_PREFIXES];
}

export async function setPlatformHighRiskPrefixes(db: DbOrTx, prefixes: readonly string[], at: Date): Promise<void> {
  await db
    .insert(settings)
    .values({ key: HIGH_RISK_KEY, value: [...prefixes], updatedAt: at })
    .onConflictDoUpdate({ target: settings.key, set: { value: [...prefixes], updatedAt: at } });
  await notifyChange(db, 'client', '*'); // issue #7: every client's facts, this node at once
}

/** Fills the defaults in (RULES.md §4.3b). */
export function effectiveSettings(
  row: ClientSettingsRow | null,
  o: { users: number; contractEnabled: readonly string[]; platformHighRisk: readonly string[] },
): EffectivePolicySettings {
  return {
    maxConcurrentCalls: row?.maxConcurrentCalls ?? defaultMaxConcurrent(o.users),
    attemptsPerUserPerMinute: row?.attemptsPerUserPerMinute ?? DEFAULT_LIMITS.attemptsPerUserPerMinute,
    spendLimitCentsPerHour: row?.spendLimitCentsPerHour ?? DEFAULT_LIMITS.spendLimitCentsPerHour,
    internationalCalls: row?.internationalCalls ?? true,
    enabled: [...(row?.enabled ?? o.contractEnabled)],
    highRiskPrefixes: [...(row?.highRiskPrefixes ?? o.platformHighRisk)],
  };
}

export function overridesOf(row: ClientSettingsRow | null): PolicySettingsView['overrides'] {
  return {
    maxConcurrentCalls: row?.maxConcurrentCalls ?? null,
    attemptsPerUserPerMinute: row?.attemptsPerUserPerMinute ?? null,
    spendLimitCentsPerHour: row?.spendLimitCentsPerHour ?? null,
    internationalCalls: row?.internationalCalls ?? null,
    enabled: row?.enabled ?? null,
    highRiskPrefixes: row?.highRiskPrefixes ?? null,
  };
}
