/**
 * The dunning policy in force (setting `payments.dunningPolicy`: the operator's changes to
 * the RULES.md defaults, dunning-policy.ts). Read once per daily evaluation; changed by
 * staff through the API (audited) or by a scenario's `settings.dunning`.
 */
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { DbOrTx } from '../../db/client.ts';
import { settings } from '../../db/settings-schema.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { DEFAULT_DUNNING_POLICY, mergeDunningPolicy, type DunningPolicy } from './dunning-policy.ts';

const KEY = 'payments.dunningPolicy';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function dunningPolicyOf(db: DbOrTx): Promise<DunningPolicy> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, KEY));
  return isRecord(row?.value) ? mergeDunningPolicy(DEFAULT_DUNNING_POLICY, row.value) : { ...DEFAULT_DUNNING_POLICY };
}

/** Stores `changes` over the policy in force (validated: a bad field is a 400 naming it); returns the new policy. */
export async function setDunningPolicy(ctx: Pick<AppContext, 'db' | 'clock'>, opts: { actor: AuditActor; changes: Record<string, unknown>; requestId?: string }): Promise<DunningPolicy> {
  const at = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await dunningPolicyOf(tx);
    const after = mergeDunningPolicy(before, opts.changes);
    await tx.insert(settings).values({ key: KEY, value: after, updatedAt: at }).onConflictDoUpdate({ target: settings.key, set: { value: after, updatedAt: at } });
    await recordAudit(tx, { at, actor: opts.actor, action: 'dunning_policy.update', entity: 'setting', entityId: KEY, clientId: null, before, after, clause: '9.1a', requestId: opts.requestId });
    return after;
  });
}
