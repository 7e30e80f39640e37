import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { loadClient, toClientView, type ClientView } from './client-view.ts';

export interface GetClientOptions {
  principal: Principal;
  clientId: string;
}

export async function getClient(db: DbOrTx, opts: GetClientOptions): Promise<ClientView> {
  // The tenant check comes first: another tenant's id is refused whether or not it exists.
  assertTenant(opts.principal, opts.clientId, { entity: 'client', entityId: opts.clientId });
  const row = await loadClient(db, opts.clientId);
  if (!row) throw notFound('client', opts.clientId);
  return toClientView(row);
}
