import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { validationError } from '../../kernel/errors.ts';
import { isLocalDate, localDate, type LocalDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { assertActorRole, assertNotTerminated, assertSigned, CONTRACT_WRITE_ROLES } from './contract-rules.ts';
import { currentContract } from './contract-store.ts';
import { toContractView, type ContractView } from './contract-view.ts';
import { finishTermination } from './finish-termination.ts';
import { contracts } from './schema.ts';
import { planTermination, type TerminationGround } from './term-dates.ts';

export interface TerminateContractOptions {
  actor: AuditActor;
  clientId: string;
  by: 'client' | 'operator';
  /** early (11.2), notice (11.4), 12.1, 12.2a, 12.3a, 15.2, 18. */
  ground: TerminationGround;
  /** Effective date; default: the day the registered letter is recorded (today). */
  effective?: LocalDate | undefined;
  requestId?: string | undefined;
}

/**
 * Termination (§11.2, §11.4, §12, §15.2, §18). Immediate: service stops now (endDate =
 * today, event `termination` at now). With notice (indefinite contract): endDate =
 * today + 3 months, state `terminating`; a future effective date likewise; the daily
 * job stops service at 00:00 after endDate. Money (fee, final invoice) is billing's.
 */
export async function terminateContract(ctx: AppContext, opts: TerminateContractOptions): Promise<ContractView> {
  const { actor, clientId } = opts;
  if (actor !== 'system') assertTenant(actor, clientId, { entity: 'client', entityId: clientId });
  assertActorRole(actor, CONTRACT_WRITE_ROLES, 'contract', null, clientId);
  if (opts.effective !== undefined && !isLocalDate(opts.effective)) throw validationError('/effective', 'must be a date YYYY-MM-DD');
  const now = ctx.clock.now();
  const today = localDate(now);
  return ctx.db.transaction(async (tx) => {
    const c = await currentContract(tx, clientId, true);
    assertNotTerminated(c);
    assertSigned(c, 'Termination refused');
    const plan = planTermination({ ground: opts.ground, state: c.state, today, effective: opts.effective });
    if (plan.kind === 'immediate') {
      const row = await finishTermination(tx, c, { at: now, endDate: plan.endDate, clause: plan.clause, ground: opts.ground, by: opts.by, actor, requestId: opts.requestId ?? null });
      return toContractView(tx, row);
    }
    const before = await toContractView(tx, c);
    const [row] = await tx
      .update(contracts)
      .set({ state: 'terminating', endDate: plan.endDate, terminationClause: plan.clause, terminationGround: opts.ground, terminatedBy: opts.by })
      .where(eq(contracts.id, c.id))
      .returning();
    const after = await toContractView(tx, row!);
    await recordAudit(tx, { at: now, actor, action: 'contract.terminate_notice', entity: 'contract', entityId: c.id, clientId, before, after, clause: plan.clause, requestId: opts.requestId ?? null });
    return after;
  });
}
