import type { AppContext } from '../../context.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { assertActorRole, assertNotTerminated, contractConflict, CONTRACT_WRITE_ROLES, requireContract } from './contract-rules.ts';
import { loadContract } from './contract-store.ts';
import { toContractView, type ContractView } from './contract-view.ts';
import { contracts } from './schema.ts';
import { eq } from 'drizzle-orm';

export interface SignContractOptions {
  actor: AuditActor;
  clientId: string;
  contractId: string;
  requestId?: string | undefined;
}

/** §2.2: the contract is concluded when the operator records it signed (`signedAt`). */
export async function signContract(ctx: AppContext, opts: SignContractOptions): Promise<ContractView> {
  const { actor, clientId, contractId } = opts;
  if (actor !== 'system') assertTenant(actor, clientId, { entity: 'contract', entityId: contractId });
  assertActorRole(actor, CONTRACT_WRITE_ROLES, 'contract', contractId, clientId);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const c = requireContract(await loadContract(tx, clientId, contractId, true), clientId);
    assertNotTerminated(c);
    if (c.state !== 'draft') throw contractConflict(`The contract is already ${c.state}`);
    const before = await toContractView(tx, c);
    const [row] = await tx.update(contracts).set({ state: 'signed', signedAt: now }).where(eq(contracts.id, c.id)).returning();
    const after = await toContractView(tx, row!);
    await recordAudit(tx, { at: now, actor, action: 'contract.sign', entity: 'contract', entityId: c.id, clientId, before, after, clause: '2.2', requestId: opts.requestId ?? null });
    return after;
  });
}
