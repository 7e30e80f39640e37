import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { toAccountView, type AccountView } from './account-view.ts';
import type { Principal } from './principal.ts';
import { accounts } from './schema.ts';
import { roleDenied, scopeClientId } from './tenancy.ts';

export const ACCOUNT_PAGE_MAX = 200;

export interface ListAccountsOptions {
  principal: Principal;
  clientId?: string | undefined;
  /** Keyset cursor: accounts with a greater id. */
  after?: string | undefined;
  limit?: number | undefined;
}

/** Staff: every account (optionally one client's); client_admin: its client's accounts; client_user: refused. */
export async function listAccounts(db: DbOrTx, opts: ListAccountsOptions): Promise<{ items: AccountView[]; nextCursor: string | null }> {
  const { principal } = opts;
  const clientId = scopeClientId(principal, opts.clientId);
  if (principal.kind === 'client' && principal.role !== 'client_admin') {
    throw roleDenied({ entity: 'account', entityId: null, clientId: principal.clientId }, 'Only a client administrator may list accounts');
  }
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), ACCOUNT_PAGE_MAX);
  const where: SQL[] = [];
  if (clientId !== undefined) where.push(eq(accounts.clientId, clientId));
  if (opts.after !== undefined) where.push(gt(accounts.id, opts.after));
  const rows = await db.select().from(accounts).where(and(...where)).orderBy(asc(accounts.id)).limit(limit + 1);
  const page = rows.slice(0, limit);
  return { items: page.map(toAccountView), nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}
