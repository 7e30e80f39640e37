import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { conflict, notFound, validationError } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { toAccountView, type AccountView } from './account-view.ts';
import type { Principal } from './principal.ts';
import { roleDenied } from './tenancy.ts';
import { accounts } from './schema.ts';
import { verifyTotp } from './totp.ts';

export interface EnableTotpOptions {
  principal: Principal;
  code: string;
  requestId?: string | undefined;
}

/** Step 2 of TOTP enrolment: a right code from the app proves the secret was copied; from now on login asks for a code. */
export async function enableTotp(ctx: AppContext, opts: EnableTotpOptions): Promise<AccountView> {
  const { principal } = opts;
  if (principal.kind !== 'staff') throw roleDenied({ entity: 'account', entityId: principal.accountId, clientId: principal.clientId }, 'Two-factor login is for staff accounts');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(accounts).where(eq(accounts.id, principal.accountId)).for('update');
    if (!current) throw notFound('account', principal.accountId);
    if (current.totpEnabled) throw conflict('TOTP_ALREADY_ENABLED', 'Two-factor login is already enabled for this account');
    if (!current.totpSecret) throw conflict('TOTP_NOT_SET_UP', 'Call POST /auth/totp/setup first');
    const step = verifyTotp(current.totpSecret, opts.code, now, current.totpLastStep);
    if (step === null) throw validationError('/code', 'wrong or already used one-time code', 'INVALID_TOTP');
    const [row] = await tx
      .update(accounts)
      .set({ totpEnabled: true, totpLastStep: step })
      .where(eq(accounts.id, principal.accountId))
      .returning();
    const after = toAccountView(row!);
    await recordAudit(tx, {
      at: now,
      actor: principal,
      action: 'account.totp_enable',
      entity: 'account',
      entityId: principal.accountId,
      clientId: null,
      before: toAccountView(current),
      after,
      requestId: opts.requestId ?? null,
    });
    return after;
  });
}
