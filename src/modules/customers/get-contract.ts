import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { currentContract } from './contract-store.ts';
import { toContractView, type ContractView } from './contract-view.ts';

export interface GetContractOptions {
  principal: Principal;
  clientId: string;
}

/** The client's current contract (staff; the client's own accounts). */
export async function getContract(db: DbOrTx, opts: GetContractOptions): Promise<ContractView> {
  assertTenant(opts.principal, opts.clientId, { entity: 'contract', entityId: null });
  const c = await currentContract(db, opts.clientId);
  if (!c) throw notFound('contract of client', opts.clientId);
  return toContractView(db, c);
}
