import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { loadClient } from './client-view.ts';
import { sitesOf, type SiteView } from './site-view.ts';

export interface ListSitesOptions {
  principal: Principal;
  clientId: string;
}

export async function listSites(db: DbOrTx, opts: ListSitesOptions): Promise<SiteView[]> {
  assertTenant(opts.principal, opts.clientId, { entity: 'client', entityId: opts.clientId });
  if (!(await loadClient(db, opts.clientId))) throw notFound('client', opts.clientId);
  return sitesOf(db, opts.clientId);
}
