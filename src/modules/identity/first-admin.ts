import { and, eq, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { toAccountView } from './account-view.ts';
import { hashPassword, passwordProblem, type PasswordCost } from './password.ts';
import { accounts } from './schema.ts';
import { generatePassword } from './secrets.ts';
import { isUniqueViolation } from './unique-violation.ts';

export interface EnsureFirstAdminOptions {
  email: string;
  /** When absent, a 24-character password is generated and returned once. */
  password?: string | undefined;
  passwordCost?: PasswordCost | undefined;
}

export interface EnsureFirstAdminResult {
  email: string;
  /** Only when it was generated now (print it once at start-up). */
  password?: string;
  created: boolean;
}

/**
 * Start-up: when no enabled staff admin exists, creates one (audited as `system`). Safe when
 * several nodes start together: the e-mail is unique, the loser reports created: false.
 */
export async function ensureFirstAdmin(ctx: AppContext, opts: EnsureFirstAdminOptions): Promise<EnsureFirstAdminResult> {
  const email = opts.email.trim().toLowerCase();
  const existing = await ctx.db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(eq(accounts.role, 'admin'), isNull(accounts.disabledAt)))
    .limit(1);
  if (existing.length > 0) return { email, created: false };
  const generated = opts.password === undefined ? generatePassword() : undefined;
  const password = opts.password ?? generated!;
  const problem = passwordProblem(password);
  if (problem) throw validationError('/password', `the first admin password ${problem}`, 'WEAK_PASSWORD');
  const passwordHash = await hashPassword(password, opts.passwordCost);
  const now = ctx.clock.now();
  try {
    await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(accounts)
        .values({ id: newId(now), email, name: 'Administrator', role: 'admin', clientId: null, passwordHash, createdAt: now })
        .returning();
      await recordAudit(tx, {
        at: now,
        actor: 'system',
        action: 'account.create',
        entity: 'account',
        entityId: row!.id,
        clientId: null,
        before: null,
        after: toAccountView(row!),
      });
    });
  } catch (e) {
    if (isUniqueViolation(e, 'accounts_email_uq')) return { email, created: false };
    throw e;
  }
  ctx.log.warn({ email }, 'no staff admin existed: created the first admin account');
  return generated ? { email, password: generated, created: true } : { email, created: true };
}
