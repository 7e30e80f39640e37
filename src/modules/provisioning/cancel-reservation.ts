import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { conflict, notFound } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertStaffRole, STAFF_NUMBER_ROLES, type Actor } from './access.ts';
import { availableColumns, lockNumber } from './number-store.ts';
import { phoneNumbers } from './schema.ts';
import { toNumberView, type NumberView } from './views.ts';

export interface CancelReservationOptions {
  actor: Actor;
  number: string;
  requestId?: string | undefined;
}

/** §3.6: staff cancel a reservation at any time; the number returns to the pool, without compensation. */
export async function cancelReservation(ctx: AppContext, opts: CancelReservationOptions): Promise<NumberView> {
  assertStaffRole(opts.actor, STAFF_NUMBER_ROLES, 'number', opts.number);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = await lockNumber(tx, opts.number);
    if (!row) throw notFound('number', opts.number);
    if (row.state !== 'reserved') throw conflict('NUMBER_NOT_RESERVED', `Number ${opts.number} is not reserved (it is ${row.state})`);
    const [updated] = await tx.update(phoneNumbers).set(availableColumns).where(eq(phoneNumbers.number, opts.number)).returning();
    const view = toNumberView(updated!);
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'number.reservation.cancel',
      entity: 'number',
      entityId: opts.number,
      clientId: row.clientId,
      before: toNumberView(row),
      after: view,
      clause: '3.6',
      requestId: opts.requestId ?? null,
    });
    return view;
  });
}
