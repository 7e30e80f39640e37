import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { unauthenticated } from '../../kernel/errors.ts';
import { principalFor, TOKEN_SCOPES, type Principal, type Scope } from './principal.ts';
import { accounts, apiTokens, sessions } from './schema.ts';
import { API_TOKEN_PATTERN, sha256Hex } from './secrets.ts';
import { sessionExpired, TOUCH_INTERVAL_MS } from './session-policy.ts';

/**
 * The principal behind a session cookie value. 401 SESSION_EXPIRED once 12 h after login or
 * 30 min without a request have passed (the session row is then deleted), 401
 * UNAUTHENTICATED for an unknown value, 401 ACCOUNT_DISABLED for a disabled account.
 */
export async function authenticateSession(ctx: AppContext, opts: { token: string }): Promise<Principal> {
  const now = ctx.clock.now();
  const id = sha256Hex(opts.token);
  const [row] = await ctx.db
    .select({ session: sessions, account: accounts })
    .from(sessions)
    .innerJoin(accounts, eq(accounts.id, sessions.accountId))
    .where(eq(sessions.id, id))
    .limit(1);
  if (!row) throw unauthenticated('Not logged in or the session has ended', 'UNAUTHENTICATED');
  if (sessionExpired(row.session, now)) {
    await ctx.db.delete(sessions).where(eq(sessions.id, id));
    throw unauthenticated('The session has expired; log in again', 'SESSION_EXPIRED');
  }
  if (row.account.disabledAt !== null) {
    await ctx.db.delete(sessions).where(eq(sessions.id, id));
    throw unauthenticated('This account is disabled', 'ACCOUNT_DISABLED');
  }
  if (now.getTime() - row.session.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS) {
    await ctx.db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
  }
  return principalFor(row.account, 'session', { sessionId: id });
}

/**
 * The principal behind an API token (`e2p_…`): 401 INVALID_TOKEN (malformed or unknown),
 * TOKEN_REVOKED, TOKEN_EXPIRED or ACCOUNT_DISABLED. Records last_used_at.
 */
export async function authenticateToken(ctx: AppContext, opts: { token: string }): Promise<Principal> {
  if (!API_TOKEN_PATTERN.test(opts.token)) throw unauthenticated('Malformed API token', 'INVALID_TOKEN');
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .select({ token: apiTokens, account: accounts })
    .from(apiTokens)
    .innerJoin(accounts, eq(accounts.id, apiTokens.accountId))
    .where(eq(apiTokens.tokenHash, sha256Hex(opts.token)))
    .limit(1);
  if (!row) throw unauthenticated('Unknown API token', 'INVALID_TOKEN');
  const { token, account } = row;
  if (token.revokedAt !== null) throw unauthenticated('This API token has been revoked', 'TOKEN_REVOKED');
  if (token.expiresAt !== null && now.getTime() >= token.expiresAt.getTime()) {
    throw unauthenticated('This API token has expired', 'TOKEN_EXPIRED');
  }
  if (account.disabledAt !== null) throw unauthenticated('This account is disabled', 'ACCOUNT_DISABLED');
  if (token.lastUsedAt === null || now.getTime() - token.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
    await ctx.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, token.id));
  }
  const scopes = token.scopes.filter((s): s is Scope => (TOKEN_SCOPES as readonly string[]).includes(s));
  return principalFor(account, 'token', { scopes, tokenId: token.id, tokenPrefix: token.prefix });
}
