import { and, eq, ne } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { loadAccount } from './account-view.ts';
import { hashPassword, passwordProblem, verifyPassword } from './password.ts';
import type { Principal } from './principal.ts';
import { accounts, loginFailures, sessions } from './schema.ts';
import { accountKey } from './login-throttle.ts';
import { assertTenant, roleDenied } from './tenancy.ts';

export interface ChangePasswordOptions {
  principal: Principal;
  accountId: string;
  /** Required to change one's own password. */
  currentPassword?: string | undefined;
  newPassword: string;
  requestId?: string | undefined;
}

/**
 * Own password change (with the current password; the other sessions end) or a staff admin's
 * reset of someone else's (all of that account's sessions end and its login lock is lifted).
 */
export async function changePassword(ctx: AppContext, opts: ChangePasswordOptions): Promise<void> {
  const { principal, accountId } = opts;
  const current = await loadAccount(ctx.db, accountId);
  if (!current) throw notFound('account', accountId);
  assertTenant(principal, current.clientId, { entity: 'account', entityId: accountId });
  const self = current.id === principal.accountId;
  if (!self && !(principal.kind === 'staff' && principal.role === 'admin')) {
    throw roleDenied({ entity: 'account', entityId: accountId, clientId: current.clientId }, 'Only a staff admin may reset another account password');
  }
  if (self) {
    if (opts.currentPassword === undefined) throw validationError('/currentPassword', 'is required to change your own password');
    if (!current.passwordHash || !(await verifyPassword(opts.currentPassword, current.passwordHash))) {
      throw validationError('/currentPassword', 'is not your current password', 'INVALID_CURRENT_PASSWORD');
    }
  }
  const problem = passwordProblem(opts.newPassword);
  if (problem) throw validationError('/newPassword', problem, 'WEAK_PASSWORD');
  const passwordHash = await hashPassword(opts.newPassword);
  await ctx.db.transaction(async (tx) => {
    await tx.update(accounts).set({ passwordHash }).where(eq(accounts.id, accountId));
    const keep = self && principal.via === 'session' && principal.sessionId ? principal.sessionId : null;
    const ended = await tx
      .delete(sessions)
      .where(keep ? and(eq(sessions.accountId, accountId), ne(sessions.id, keep)) : eq(sessions.accountId, accountId))
      .returning({ id: sessions.accountId });
    if (!self) await tx.delete(loginFailures).where(eq(loginFailures.key, accountKey(current.email)));
    await recordAudit(tx, {
      at: ctx.clock.now(),
      actor: principal,
      action: self ? 'account.password_change' : 'account.password_reset',
      entity: 'account',
      entityId: accountId,
      clientId: current.clientId,
      before: null,
      after: { sessionsEnded: ended.length },
      requestId: opts.requestId ?? null,
    });
  });
}
