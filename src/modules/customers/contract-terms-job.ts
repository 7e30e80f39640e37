import { and, eq, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { addDays, localDate, startOfLocalDay } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { recordEvent } from '../events/index.ts';
import { finishTermination } from './finish-termination.ts';
import { contracts } from './schema.ts';

/**
 * The daily contract-term job at 00:00 (`dueAt` is its "now"):
 * 1. a `terminating` contract whose endDate is past stops at 00:00 after endDate (§11.4, §13.1);
 * 2. an `active` contract whose minimum term ended without non-renewal becomes `indefinite`
 *    (tacit renewal, event `renewal`, §11.4) on the day after the term ends.
 */
export async function runContractTerms(ctx: AppContext, dueAt: Date): Promise<void> {
  const today = localDate(dueAt);
  const ending = await ctx.db
    .select({ id: contracts.id })
    .from(contracts)
    .where(and(eq(contracts.state, 'terminating'), lt(contracts.endDate, today)))
    .orderBy(contracts.id);
  for (const { id } of ending) {
    await ctx.db.transaction(async (tx) => {
      const [c] = await tx.select().from(contracts).where(eq(contracts.id, id)).for('update');
      if (c?.state !== 'terminating' || c.endDate === null || c.endDate >= today) return;
      await finishTermination(tx, c, {
        at: startOfLocalDay(addDays(c.endDate, 1)),
        endDate: c.endDate,
        clause: c.terminationClause ?? '11.4',
        ground: c.terminationGround ?? 'notice',
        by: c.terminatedBy ?? 'client',
        actor: 'system',
      });
    });
  }
  const renewing = await ctx.db
    .select({ id: contracts.id })
    .from(contracts)
    .where(and(eq(contracts.state, 'active'), lt(contracts.minimumTermEnd, today)))
    .orderBy(contracts.id);
  for (const { id } of renewing) {
    await ctx.db.transaction(async (tx) => {
      const [c] = await tx.select().from(contracts).where(eq(contracts.id, id)).for('update');
      if (c?.state !== 'active' || c.minimumTermEnd === null || c.minimumTermEnd >= today) return;
      const at = startOfLocalDay(addDays(c.minimumTermEnd, 1));
      await tx.update(contracts).set({ state: 'indefinite' }).where(eq(contracts.id, c.id));
      await recordAudit(tx, {
        at,
        actor: 'system',
        action: 'contract.renew',
        entity: 'contract',
        entityId: c.id,
        clientId: c.clientId,
        before: { state: 'active' },
        after: { state: 'indefinite' },
        clause: '11.4',
      });
      await recordEvent(tx, { at, clientId: c.clientId, type: 'renewal', clause: '11.4', details: { minimumTermEnd: c.minimumTermEnd } });
    });
  }
}
