import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertProvisioningAllowed, PROVISION_ROLES, type Actor } from './access.ts';
import { loadClientUser } from './get-user.ts';
import { provisionedUsers } from './schema.ts';
import { toUserView, type UserView } from './views.ts';

export interface UpdateUserOptions {
  actor: Actor;
  clientId: string;
  userId: string;
  displayName?: string | null | undefined;
  site?: string | null | undefined;
  requestId?: string | undefined;
}

/** Renames a user or changes its site (emergency location). */
export async function updateUser(ctx: AppContext, opts: UpdateUserOptions): Promise<UserView> {
  return ctx.db.transaction(async (tx) => {
    const current = await loadClientUser(tx, opts.actor, opts.clientId, opts.userId, PROVISION_ROLES);
    await assertProvisioningAllowed(tx, opts.clientId);
    const patch: Partial<typeof provisionedUsers.$inferInsert> = {};
    if (opts.displayName !== undefined) patch.displayName = opts.displayName?.trim() || null;
    if (opts.site !== undefined) patch.site = opts.site?.trim() || null;
    const before = toUserView(current);
    if (Object.keys(patch).length === 0) return before;
    const [row] = await tx.update(provisionedUsers).set(patch).where(eq(provisionedUsers.id, opts.userId)).returning();
    const after = toUserView(row!);
    await recordAudit(tx, {
      at: ctx.clock.now(),
      actor: opts.actor,
      action: 'user.update',
      entity: 'user',
      entityId: opts.userId,
      clientId: opts.clientId,
      before,
      after,
      requestId: opts.requestId ?? null,
    });
    return after;
  });
}
