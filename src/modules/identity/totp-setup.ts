import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { conflict, notFound } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Principal } from './principal.ts';
import { roleDenied } from './tenancy.ts';
import { accounts } from './schema.ts';
import { newTotpSecret, otpauthUri } from './totp.ts';

export const TOTP_ISSUER = 'Easy2Phone';

export interface SetupTotpOptions {
  principal: Principal;
  requestId?: string | undefined;
}

/**
 * Step 1 of TOTP enrolment (staff only): a new secret is stored, not yet enforced, and shown
 * once with its otpauth:// URI. Calling it again replaces a secret not yet enabled.
 */
export async function setupTotp(ctx: AppContext, opts: SetupTotpOptions): Promise<{ secret: string; otpauthUri: string }> {
  const { principal } = opts;
  if (principal.kind !== 'staff') throw roleDenied({ entity: 'account', entityId: principal.accountId, clientId: principal.clientId }, 'Two-factor login is for staff accounts');
  const secret = newTotpSecret();
  const email = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(accounts).where(eq(accounts.id, principal.accountId)).for('update');
    if (!current) throw notFound('account', principal.accountId);
    if (current.totpEnabled) throw conflict('TOTP_ALREADY_ENABLED', 'Two-factor login is already enabled for this account');
    await tx.update(accounts).set({ totpSecret: secret, totpLastStep: null }).where(eq(accounts.id, principal.accountId));
    await recordAudit(tx, {
      at: ctx.clock.now(),
      actor: principal,
      action: 'account.totp_setup',
      entity: 'account',
      entityId: principal.accountId,
      clientId: null,
      before: { totpEnabled: false },
      after: { totpEnabled: false, totpPending: true },
      requestId: opts.requestId ?? null,
    });
    return current.email;
  });
  return { secret, otpauthUri: otpauthUri({ issuer: TOTP_ISSUER, account: email, secret }) };
}
