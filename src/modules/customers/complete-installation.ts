import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { assertActorRole, assertNotTerminated, assertSigned, contractConflict, INSTALLATION_ROLES } from './contract-rules.ts';
import { currentContract } from './contract-store.ts';
import { toContractView, type ContractView } from './contract-view.ts';
import { onInstallationComplete, runHooks } from './hooks.ts';
import { contracts } from './schema.ts';
import { termEnd } from './term-dates.ts';

export interface CompleteInstallationOptions {
  actor: AuditActor;
  clientId: string;
  requestId?: string | undefined;
}

/**
 * §8.1 / §11.1: the installation date is the service start date (local day of now);
 * the minimum term runs from it. Refused on an unsigned contract (CONTRACT_NOT_SIGNED, 2.2).
 */
export async function completeInstallation(ctx: AppContext, opts: CompleteInstallationOptions): Promise<ContractView> {
  const { actor, clientId } = opts;
  if (actor !== 'system') assertTenant(actor, clientId, { entity: 'client', entityId: clientId });
  assertActorRole(actor, INSTALLATION_ROLES, 'contract', null, clientId);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const c = await currentContract(tx, clientId, true);
    assertNotTerminated(c);
    assertSigned(c, 'Installation refused');
    if (c.state !== 'signed') throw contractConflict(`The installation is already recorded (contract ${c.state})`);
    const start = localDate(now);
    const before = await toContractView(tx, c);
    const [row] = await tx
      .update(contracts)
      .set({ state: 'active', serviceStartDate: start, minimumTermEnd: termEnd(start, c.minimumMonths) })
      .where(eq(contracts.id, c.id))
      .returning();
    const after = await toContractView(tx, row!);
    await recordAudit(tx, { at: now, actor, action: 'contract.install', entity: 'contract', entityId: c.id, clientId, before, after, clause: '8.1', requestId: opts.requestId ?? null });
    await runHooks(onInstallationComplete, tx, clientId, now);
    return after;
  });
}
