import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { notFound } from '../../kernel/errors.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertClientAccess, assertNotTerminated, PROVISION_ROLES, type Actor } from './access.ts';
import { reservationExpiresOn } from './number-lifecycle.ts';
import { lockNumber, numberNotAvailable } from './number-store.ts';
import { phoneNumbers } from './schema.ts';
import { toNumberView, type NumberView } from './views.ts';

export interface ReserveNumberOptions {
  actor: Actor;
  clientId: string;
  number: string;
  requestId?: string | undefined;
}

/** §3.6: reserves an available number for a client for 30 days (may precede the signature). */
export async function reserveNumber(ctx: AppContext, opts: ReserveNumberOptions): Promise<NumberView> {
  const { actor, clientId, number } = opts;
  assertClientAccess(actor, clientId, PROVISION_ROLES);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await assertNotTerminated(tx, clientId);
    const row = await lockNumber(tx, number);
    if (!row) throw notFound('number', number);
    if (row.state === 'reserved' && row.clientId === clientId) return toNumberView(row);
    if (row.state !== 'available') throw numberNotAvailable(number, row.clientId === clientId ? `it is ${row.state}` : 'it belongs to another client or is in quarantine');
    const [updated] = await tx
      .update(phoneNumbers)
      .set({ state: 'reserved', clientId, reservedAt: now, reservationExpiresOn: reservationExpiresOn(localDate(now)) })
      .where(eq(phoneNumbers.number, number))
      .returning();
    const view = toNumberView(updated!);
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'number.reserve',
      entity: 'number',
      entityId: number,
      clientId,
      before: toNumberView(row),
      after: view,
      clause: '3.6',
      requestId: opts.requestId ?? null,
    });
    return view;
  });
}
