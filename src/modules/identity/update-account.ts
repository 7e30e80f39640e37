import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { canManageAccount } from './account-rules.ts';
import { toAccountView, type AccountView } from './account-view.ts';
import { isStaffRole, type Principal } from './principal.ts';
import { accounts, sessions, type Role } from './schema.ts';
import { assertTenant, roleDenied } from './tenancy.ts';

export interface UpdateAccountOptions {
  principal: Principal;
  accountId: string;
  name?: string | undefined;
  role?: Role | undefined;
  /** true disables the account (its sessions end, its tokens stop working); false enables it again. */
  disabled?: boolean | undefined;
  requestId?: string | undefined;
}

/** Name (anyone for themselves), role and disabling (managers only, never on oneself). */
export async function updateAccount(ctx: AppContext, opts: UpdateAccountOptions): Promise<AccountView> {
  const { principal, accountId } = opts;
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(accounts).where(eq(accounts.id, accountId)).for('update');
    if (!current) throw notFound('account', accountId);
    assertTenant(principal, current.clientId, { entity: 'account', entityId: accountId });
    const self = current.id === principal.accountId;
    const target = { entity: 'account', entityId: accountId, clientId: current.clientId };
    const changesPrivileges = opts.role !== undefined || opts.disabled !== undefined;
    if (self && changesPrivileges) throw roleDenied(target, 'You cannot change your own role or disable yourself');
    if (!self && !canManageAccount(principal, current)) throw roleDenied(target, 'Your role may not change this account');
    const patch: Partial<typeof accounts.$inferInsert> = {};
    if (opts.name !== undefined) patch.name = opts.name.trim();
    if (opts.role !== undefined && opts.role !== current.role) {
      if (isStaffRole(opts.role) !== isStaffRole(current.role)) {
        throw validationError('/role', 'a staff account stays staff and a client account stays a client account', 'ROLE_KIND_CHANGE');
      }
      if (!canManageAccount(principal, { role: opts.role, clientId: current.clientId })) throw roleDenied(target, `Your role may not grant ${opts.role}`);
      patch.role = opts.role;
    }
    if (opts.disabled !== undefined && opts.disabled !== (current.disabledAt !== null)) {
      patch.disabledAt = opts.disabled ? now : null;
    }
    const before = toAccountView(current);
    if (Object.keys(patch).length === 0) return before;
    const [row] = await tx.update(accounts).set(patch).where(eq(accounts.id, accountId)).returning();
    // A disabled account or a changed role: existing sessions end (tokens check the account on each use).
    if (patch.disabledAt || patch.role) await tx.delete(sessions).where(eq(sessions.accountId, accountId));
    const after = toAccountView(row!);
    await recordAudit(tx, {
      at: now,
      actor: principal,
      action: patch.disabledAt ? 'account.disable' : patch.disabledAt === null ? 'account.enable' : 'account.update',
      entity: 'account',
      entityId: accountId,
      clientId: current.clientId,
      before,
      after,
      requestId: opts.requestId ?? null,
    });
    return after;
  });
}
