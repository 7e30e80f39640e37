import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Principal } from './principal.ts';
import { sessions } from './schema.ts';

export interface LogoutOptions {
  principal: Principal;
  requestId?: string | undefined;
}

/** Ends the principal's session (a token principal has none: nothing to end). */
export async function logout(ctx: AppContext, opts: LogoutOptions): Promise<void> {
  const { principal } = opts;
  if (principal.via !== 'session' || !principal.sessionId) return;
  const sessionId = principal.sessionId;
  await ctx.db.transaction(async (tx) => {
    await tx.delete(sessions).where(eq(sessions.id, sessionId));
    await recordAudit(tx, {
      at: ctx.clock.now(),
      actor: principal,
      action: 'auth.logout',
      entity: 'account',
      entityId: principal.accountId,
      clientId: principal.clientId,
      before: null,
      after: null,
      requestId: opts.requestId ?? null,
    });
  });
}
