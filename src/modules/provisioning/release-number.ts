import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { conflict, notFound } from '../../kernel/errors.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertClientAccess, PROVISION_ROLES, type Actor } from './access.ts';
import { releaseIsImmediate } from './number-lifecycle.ts';
import { availableColumns, lockNumber, quarantineNumber, type NumberRow } from './number-store.ts';
import { phoneNumbers } from './schema.ts';
import { toNumberView, type NumberView } from './views.ts';

export interface ReleaseNumberOptions {
  actor: Actor;
  clientId: string;
  number: string;
  requestId?: string | undefined;
}

/**
 * Releases a client's number: an assigned number goes to quarantine for 90 days (event
 * `number_released`); an international number inside its 12-month commitment (§8.6) stays
 * assigned, with its release pending until the daily job after the commitment's last day.
 * A reserved number simply returns to the pool.
 */
export async function releaseNumber(ctx: AppContext, opts: ReleaseNumberOptions): Promise<NumberView> {
  const { actor, clientId, number } = opts;
  assertClientAccess(actor, clientId, PROVISION_ROLES);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = await lockNumber(tx, number);
    if (row?.clientId) assertClientAccess(actor, row.clientId, null, 'number', number);
    if (!row || row.clientId !== clientId || (row.state !== 'assigned' && row.state !== 'reserved')) throw notFound('number', number);
    let updated: NumberRow | undefined;
    let clause: string | null = null;
    if (row.state === 'reserved') {
      [updated] = await tx.update(phoneNumbers).set(availableColumns).where(eq(phoneNumbers.number, number)).returning();
    } else if (releaseIsImmediate(localDate(now), row.commitmentEnd)) {
      updated = await quarantineNumber(tx, row, now, null, 'released');
    } else {
      if (row.releaseRequestedAt !== null) throw conflict('RELEASE_PENDING', `The release of ${number} is already pending until ${row.commitmentEnd ?? ''} (§8.6)`, '8.6');
      clause = '8.6';
      [updated] = await tx.update(phoneNumbers).set({ releaseRequestedAt: now }).where(eq(phoneNumbers.number, number)).returning();
    }
    if (!updated) throw notFound('number', number);
    const view = toNumberView(updated);
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'number.release',
      entity: 'number',
      entityId: number,
      clientId,
      before: toNumberView(row),
      after: view,
      clause,
      requestId: opts.requestId ?? null,
    });
    return view;
  });
}
