import type { AppContext } from '../../context.ts';
import { conflict, notFound, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { clientExists } from '../customers/client-view.ts';
import { canManageAccount } from './account-rules.ts';
import { toAccountView, type AccountView } from './account-view.ts';
import { hashPassword, passwordProblem, type PasswordCost } from './password.ts';
import { isStaffRole, type Principal } from './principal.ts';
import { accounts, type Role } from './schema.ts';
import { generatePassword } from './secrets.ts';
import { roleDenied, tenantDenied } from './tenancy.ts';
import { isUniqueViolation } from './unique-violation.ts';

export interface CreateAccountOptions {
  /** Who asks; `system` is the operator's shell on the server (CLI), which may create any account. */
  principal: Principal | 'system';
  email: string;
  name?: string | undefined;
  role: Role;
  /** Required for client roles, absent for staff roles. */
  clientId?: string | null | undefined;
  /** When absent, a password is generated and returned once (until invitations are e-mailed). */
  password?: string | undefined;
  requestId?: string | undefined;
  /** Test fixtures only. */
  passwordCost?: PasswordCost | undefined;
}

export interface CreateAccountResult {
  account: AccountView;
  /** Only when generated here. */
  initialPassword?: string;
}

export async function createAccount(ctx: AppContext, opts: CreateAccountOptions): Promise<CreateAccountResult> {
  const { principal, role } = opts;
  const email = opts.email.trim().toLowerCase();
  const staff = isStaffRole(role);
  const clientId = opts.clientId ?? null;
  if (staff && clientId !== null) throw validationError('/clientId', 'must be absent for a staff account');
  if (!staff && clientId === null) throw validationError('/clientId', 'is required for a client account');
  // Another tenant first (404, recorded), then the role (403).
  if (principal !== 'system' && principal.kind === 'client' && !staff && clientId !== principal.clientId) {
    throw tenantDenied({ entity: 'client', entityId: clientId, clientId });
  }
  if (principal !== 'system' && !canManageAccount(principal, { role, clientId })) {
    throw roleDenied({ entity: 'account', entityId: null, clientId }, `Your role may not create ${role} accounts`);
  }
  const generated = opts.password === undefined ? generatePassword() : undefined;
  const password = opts.password ?? generated!;
  const problem = passwordProblem(password);
  if (problem) throw validationError('/password', problem, 'WEAK_PASSWORD');
  const passwordHash = await hashPassword(password, opts.passwordCost);
  const now = ctx.clock.now();
  try {
    const account = await ctx.db.transaction(async (tx) => {
      if (clientId !== null && !(await clientExists(tx, clientId))) throw notFound('client', clientId);
      const [row] = await tx
        .insert(accounts)
        .values({ id: newId(now), email, name: opts.name?.trim() ?? '', role, clientId, passwordHash, createdAt: now })
        .returning();
      const view = toAccountView(row!);
      await recordAudit(tx, {
        at: now,
        actor: principal,
        action: 'account.create',
        entity: 'account',
        entityId: view.id,
        clientId,
        before: null,
        after: view,
        requestId: opts.requestId ?? null,
      });
      return view;
    });
    return generated ? { account, initialPassword: generated } : { account };
  } catch (e) {
    if (isUniqueViolation(e, 'accounts_email_uq')) throw conflict('EMAIL_TAKEN', 'An account with this e-mail address already exists');
    throw e;
  }
}
