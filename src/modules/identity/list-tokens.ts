import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import type { Principal } from './principal.ts';
import { roleDenied } from './tenancy.ts';
import { apiTokens } from './schema.ts';
import { toTokenView, type TokenView } from './token-view.ts';

export interface ListTokensOptions {
  principal: Principal;
  /** Staff admin only: whose tokens (default: everyone's). */
  accountId?: string | undefined;
}

/** Everyone sees their own tokens; a staff admin sees all (optionally one account's). */
export async function listTokens(db: DbOrTx, opts: ListTokensOptions): Promise<TokenView[]> {
  const { principal } = opts;
  const isAdmin = principal.kind === 'staff' && principal.role === 'admin';
  const where: SQL[] = [];
  if (isAdmin) {
    if (opts.accountId !== undefined) where.push(eq(apiTokens.accountId, opts.accountId));
  } else {
    if (opts.accountId !== undefined && opts.accountId !== principal.accountId) {
      throw roleDenied({ entity: 'account', entityId: opts.accountId, clientId: null }, 'You can only list your own tokens');
    }
    where.push(eq(apiTokens.accountId, principal.accountId));
  }
  const rows = await db.select().from(apiTokens).where(and(...where)).orderBy(desc(apiTokens.createdAt)).limit(1000);
  return rows.map(toTokenView);
}
