import type { AppContext } from '../../context.ts';
import { validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { hasScope, type Principal, type Scope } from './principal.ts';
import { apiTokens } from './schema.ts';
import { newApiToken } from './secrets.ts';
import { toTokenView, type TokenView } from './token-view.ts';

export interface CreateTokenOptions {
  principal: Principal;
  name: string;
  scopes: Scope[];
  expiresAt?: Date | undefined;
  requestId?: string | undefined;
}

/** A new API token for the principal's own account. The token itself is returned here only. */
export async function createToken(ctx: AppContext, opts: CreateTokenOptions): Promise<{ token: string; view: TokenView }> {
  const { principal } = opts;
  const now = ctx.clock.now();
  const name = opts.name.trim();
  if (name === '') throw validationError('/name', 'must not be empty');
  const scopes = [...new Set(opts.scopes)];
  if (scopes.length === 0) throw validationError('/scopes', 'must name at least one scope');
  // A token never creates a token stronger than itself.
  const beyond = scopes.find((s) => !hasScope(principal, s));
  if (beyond) throw validationError('/scopes', `you do not hold the scope ${beyond}`, 'SCOPE_NOT_HELD');
  if (opts.expiresAt && opts.expiresAt.getTime() <= now.getTime()) throw validationError('/expiresAt', 'must be in the future');
  const { token, prefix, hash } = newApiToken();
  const view = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({
        id: newId(now),
        accountId: principal.accountId,
        name,
        tokenHash: hash,
        prefix,
        scopes,
        createdAt: now,
        expiresAt: opts.expiresAt ?? null,
      })
      .returning();
    const v = toTokenView(row!);
    await recordAudit(tx, {
      at: now,
      actor: principal,
      action: 'token.create',
      entity: 'api_token',
      entityId: v.id,
      clientId: principal.clientId,
      before: null,
      after: v,
      requestId: opts.requestId ?? null,
    });
    return v;
  });
  return { token, view };
}
