import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import { canReadAccount } from './account-rules.ts';
import { loadAccount, toAccountView, type AccountView } from './account-view.ts';
import type { Principal } from './principal.ts';
import { assertTenant, roleDenied } from './tenancy.ts';

export interface GetAccountOptions {
  principal: Principal;
  accountId: string;
}

export async function getAccount(db: DbOrTx, opts: GetAccountOptions): Promise<AccountView> {
  const { principal, accountId } = opts;
  const row = await loadAccount(db, accountId);
  if (!row) throw notFound('account', accountId);
  assertTenant(principal, row.clientId, { entity: 'account', entityId: accountId });
  if (!canReadAccount(principal, row)) throw roleDenied({ entity: 'account', entityId: accountId, clientId: row.clientId });
  return toAccountView(row);
}
