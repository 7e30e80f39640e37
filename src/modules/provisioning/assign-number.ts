import { and, eq, ne } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { notFound } from '../../kernel/errors.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertClientAccess, assertProvisioningAllowed, PROVISION_ROLES, type Actor } from './access.ts';
import { loadClientUser } from './get-user.ts';
import { commitmentEnd } from './number-lifecycle.ts';
import { lockNumber, numberNotAvailable } from './number-store.ts';
import { phoneNumbers } from './schema.ts';
import { toNumberView, type NumberView } from './views.ts';

export interface AssignNumberOptions {
  actor: Actor;
  clientId: string;
  number: string;
  /** The user the number rings; null/absent: the client's (no user). */
  userId?: string | null | undefined;
  /** Designate it as the client's main number (RULES.md "Main number and caller ID"). */
  main?: boolean | undefined;
  requestId?: string | undefined;
}

/**
 * Assigns an available number, or one reserved for this client, to the client (§2.2: on a
 * signed contract; §13.1: not after termination). A number belongs to one client at a time
 * (NUMBER_NOT_AVAILABLE). An international number starts its 12-month commitment (§8.6).
 * A number already assigned to this client is moved to another user / designated main.
 */
export async function assignNumber(ctx: AppContext, opts: AssignNumberOptions): Promise<NumberView> {
  const { actor, clientId, number } = opts;
  assertClientAccess(actor, clientId, PROVISION_ROLES);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await assertProvisioningAllowed(tx, clientId);
    const userId = opts.userId ?? null;
    if (userId !== null) await loadClientUser(tx, actor, clientId, userId, null);
    const row = await lockNumber(tx, number);
    if (!row) throw notFound('number', number);
    const mine = row.clientId === clientId;
    let patch: Partial<typeof phoneNumbers.$inferInsert>;
    if (row.state === 'available' || (row.state === 'reserved' && mine)) {
      const today = localDate(now);
      patch = {
        state: 'assigned',
        clientId,
        userId,
        isMain: opts.main ?? false,
        reservationExpiresOn: null,
        assignedAt: now,
        commitmentEnd: row.type === 'international' ? commitmentEnd(today) : null, // §8.6
        releaseRequestedAt: null,
        releasedAt: null,
        quarantineEndsOn: null,
      };
    } else if (row.state === 'assigned' && mine) {
      patch = { userId, isMain: opts.main ?? row.isMain };
    } else {
      throw numberNotAvailable(number, row.state === 'quarantine' ? 'it is in quarantine' : mine ? `it is ${row.state}` : 'it belongs to another client');
    }
    if (patch.isMain) {
      await tx.update(phoneNumbers).set({ isMain: false }).where(and(eq(phoneNumbers.clientId, clientId), ne(phoneNumbers.number, number)));
    }
    const [updated] = await tx.update(phoneNumbers).set(patch).where(eq(phoneNumbers.number, number)).returning();
    const view = toNumberView(updated!);
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'number.assign',
      entity: 'number',
      entityId: number,
      clientId,
      before: toNumberView(row),
      after: view,
      clause: row.type === 'international' ? '8.6' : '2.2',
      requestId: opts.requestId ?? null,
    });
    return view;
  });
}
