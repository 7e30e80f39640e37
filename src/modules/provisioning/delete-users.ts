import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { forbidden, notFound, RuleViolation, validationError } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertClientAccess, assertNotTerminated, isStaffActor, PROVISION_ROLES, type Actor } from './access.ts';
import { decideUserReduction, quarterStartInstant } from './quarter-floor.ts';
import { phoneNumbers, provisionedUsers } from './schema.ts';
import { countUsersAt } from './user-store.ts';
import { toUserView, type UserView } from './views.ts';
import { notifyChange } from '../../db/changes.ts';

export interface DeleteUsersOptions {
  actor: Actor;
  clientId: string;
  userIds: string[];
  /** Staff only: deletes below the §8.5 floor, with this reason recorded in the audit entry. */
  overrideReason?: string | null | undefined;
  requestId?: string | undefined;
}

/**
 * Deletes users (soft delete: the row keeps `deleted_at` so past counts stay computable).
 * §8.5: the quarter's floor `N0 − floor(10 % × N0)` is enforced on the count after the
 * deletion (USER_REDUCTION_LIMIT) unless staff override with a reason. Numbers assigned to
 * a deleted user stay with the client, without a user.
 */
export async function deleteUsers(ctx: AppContext, opts: DeleteUsersOptions): Promise<UserView[]> {
  const { actor, clientId } = opts;
  assertClientAccess(actor, clientId, PROVISION_ROLES);
  const override = opts.overrideReason?.trim() || null;
  if (override !== null && !isStaffActor(actor)) throw forbidden('Only staff may override the §8.5 reduction floor');
  const ids = [...new Set(opts.userIds)];
  if (ids.length === 0) throw validationError('/userIds', 'at least one user');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    // Lock the client's current users: two deletions cannot both pass the floor.
    const current = await tx
      .select()
      .from(provisionedUsers)
      .where(and(eq(provisionedUsers.clientId, clientId), isNull(provisionedUsers.deletedAt)))
      .for('update');
    const byId = new Map(current.map((u) => [u.id, u]));
    for (const id of ids) {
      if (!byId.has(id)) {
        const [other] = await tx.select({ clientId: provisionedUsers.clientId }).from(provisionedUsers).where(eq(provisionedUsers.id, id));
        if (other) assertClientAccess(actor, other.clientId, null, 'user', id);
        throw notFound('user', id);
      }
    }
    await assertNotTerminated(tx, clientId);
    const quarterStart = quarterStartInstant(now);
    const decision = decideUserReduction({
      usersAtQuarterStart: await countUsersAt(tx, clientId, quarterStart),
      currentUsers: current.length,
      removing: ids.length,
    });
    if (!decision.allowed && override === null) {
      throw new RuleViolation(
        decision.code,
        decision.clause,
        `This quarter the client may not go below ${decision.floor} users (§8.5); the deletion would leave ${decision.after}`,
        { floor: decision.floor, after: decision.after },
      );
    }
    const rows = await tx.update(provisionedUsers).set({ deletedAt: now }).where(inArray(provisionedUsers.id, ids)).returning();
    await tx.update(phoneNumbers).set({ userId: null }).where(and(eq(phoneNumbers.clientId, clientId), inArray(phoneNumbers.userId, ids)));
    for (const r of rows) await notifyChange(tx, 'sip_user', r.sipUsername); // this node's SIP cache, at once
    const views = rows.map(toUserView);
    for (const v of views) {
      await recordAudit(tx, {
        at: now,
        actor,
        action: 'user.delete',
        entity: 'user',
        entityId: v.id,
        clientId,
        before: { ...v, deletedAt: null },
        after: {
          ...v,
          quarterFloor: decision.floor,
          ...(decision.allowed ? {} : { override: { reason: override } }),
        },
        clause: '8.5',
        requestId: opts.requestId ?? null,
      });
    }
    return views;
  });
}
