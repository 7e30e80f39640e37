import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { RuleViolation } from '../../kernel/errors.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { recordEvent } from '../events/index.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { assertActorRole, assertNotTerminated, assertSigned, contractConflict, NOTICE_ROLES } from './contract-rules.ts';
import { currentContract } from './contract-store.ts';
import { toContractView, type ContractView } from './contract-view.ts';
import { contracts } from './schema.ts';
import { assertNonRenewalInTime } from './term-dates.ts';

export interface NoticeNonRenewalOptions {
  actor: AuditActor;
  clientId: string;
  /** Who sent the registered letter (default client). */
  by?: 'client' | 'operator' | undefined;
  requestId?: string | undefined;
}

/**
 * §11.4: a non-renewal notice received on or before (the day after the term ends) − 3
 * months ends the contract at its minimum term end (state `terminating`, endDate =
 * minimumTermEnd); a later one is refused (NOTICE_TOO_LATE). Recorded as an audit entry
 * and a `notice` event (clause 11.4, details.kind = non_renewal).
 */
export async function noticeNonRenewal(ctx: AppContext, opts: NoticeNonRenewalOptions): Promise<ContractView> {
  const { actor, clientId } = opts;
  if (actor !== 'system') assertTenant(actor, clientId, { entity: 'client', entityId: clientId });
  assertActorRole(actor, NOTICE_ROLES, 'contract', null, clientId);
  const now = ctx.clock.now();
  const today = localDate(now);
  return ctx.db.transaction(async (tx) => {
    const c = await currentContract(tx, clientId, true);
    assertNotTerminated(c);
    assertSigned(c, 'Non-renewal notice refused');
    if (c.state === 'signed' || c.minimumTermEnd === null) {
      throw new RuleViolation('SERVICE_NOT_STARTED', '2.2', 'The service has not started: the minimum term has no end date yet');
    }
    if (c.state === 'indefinite') {
      throw new RuleViolation('NOTICE_TOO_LATE', '11.4', `The contract was renewed for an indefinite term on the day after ${c.minimumTermEnd}; terminate with 3 months' notice instead`);
    }
    if (c.state !== 'active') throw contractConflict(`The contract is already ${c.state}`);
    assertNonRenewalInTime(today, c.minimumTermEnd);
    const before = await toContractView(tx, c);
    const [row] = await tx
      .update(contracts)
      .set({ state: 'terminating', endDate: c.minimumTermEnd, terminationClause: '11.4', terminationGround: 'non_renewal', terminatedBy: opts.by ?? 'client', nonRenewalAt: now })
      .where(eq(contracts.id, c.id))
      .returning();
    const after = await toContractView(tx, row!);
    await recordAudit(tx, { at: now, actor, action: 'contract.non_renewal', entity: 'contract', entityId: c.id, clientId, before, after, clause: '11.4', requestId: opts.requestId ?? null });
    await recordEvent(tx, { at: now, clientId, type: 'notice', clause: '11.4', details: { kind: 'non_renewal', by: opts.by ?? 'client', endDate: c.minimumTermEnd } });
    return after;
  });
}
