import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { notFound } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { Principal } from './principal.ts';
import { accounts, apiTokens } from './schema.ts';
import { tenantDenied } from './tenancy.ts';
import { toTokenView, type TokenView } from './token-view.ts';

export interface RevokeTokenOptions {
  principal: Principal;
  tokenId: string;
  requestId?: string | undefined;
}

/**
 * Revokes a token: its owner, or a staff admin. Anyone else's token is answered 404 (as if it
 * did not exist) and recorded. Revoking a revoked token returns it unchanged.
 */
export async function revokeToken(ctx: AppContext, opts: RevokeTokenOptions): Promise<TokenView> {
  const { principal, tokenId } = opts;
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ token: apiTokens, ownerClientId: accounts.clientId })
      .from(apiTokens)
      .innerJoin(accounts, eq(accounts.id, apiTokens.accountId))
      .where(eq(apiTokens.id, tokenId))
      .for('update', { of: apiTokens });
    if (!row) throw notFound('api_token', tokenId);
    const isAdmin = principal.kind === 'staff' && principal.role === 'admin';
    if (row.token.accountId !== principal.accountId && !isAdmin) {
      throw tenantDenied({ entity: 'api_token', entityId: tokenId, clientId: row.ownerClientId });
    }
    const before = toTokenView(row.token);
    if (row.token.revokedAt !== null) return before;
    const [updated] = await tx.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, tokenId)).returning();
    const after = toTokenView(updated!);
    await recordAudit(tx, {
      at: now,
      actor: principal,
      action: 'token.revoke',
      entity: 'api_token',
      entityId: tokenId,
      clientId: row.ownerClientId,
      before,
      after,
      requestId: opts.requestId ?? null,
    });
    return after;
  });
}
