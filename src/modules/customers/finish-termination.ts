import { eq } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { recordEvent } from '../events/index.ts';
import type { ContractRow } from './contract-store.ts';
import { toContractView } from './contract-view.ts';
import { onClientTerminated, runHooks } from './hooks.ts';
import { clients, contracts } from './schema.ts';

/**
 * §13.1: service stops at `at` — contract `terminated`, client service state `terminated`,
 * event `termination` with the ground's clause, then the hooks (numbers released…).
 * Runs inside the caller's transaction.
 */
export async function finishTermination(
  tx: Tx,
  c: ContractRow,
  input: { at: Date; endDate: string; clause: string; ground: string; by: string; actor: AuditActor; requestId?: string | null },
): Promise<ContractRow> {
  const before = await toContractView(tx, c);
  const [row] = await tx
    .update(contracts)
    .set({ state: 'terminated', endDate: input.endDate, terminationClause: input.clause, terminationGround: input.ground, terminatedBy: input.by, terminatedAt: input.at })
    .where(eq(contracts.id, c.id))
    .returning();
  await tx.update(clients).set({ serviceState: 'terminated' }).where(eq(clients.id, c.clientId));
  await recordAudit(tx, {
    at: input.at,
    actor: input.actor,
    action: 'contract.terminate',
    entity: 'contract',
    entityId: c.id,
    clientId: c.clientId,
    before,
    after: await toContractView(tx, row!),
    clause: input.clause,
    requestId: input.requestId ?? null,
  });
  await recordEvent(tx, { at: input.at, clientId: c.clientId, type: 'termination', clause: input.clause, details: { ground: input.ground, by: input.by, endDate: input.endDate } });
  await runHooks(onClientTerminated, tx, c.clientId, input.at);
  return row!;
}
