import type { DbOrTx } from '../../db/client.ts';
import { listProducts, type Product } from '../catalog/product-queries.ts';
import { currentContract, currentContracts, linesOfContracts, type ContractLineRow } from './contract-store.ts';

export type ContractState = 'none' | 'draft' | 'signed' | 'active' | 'indefinite' | 'terminating' | 'terminated';

export interface ContractStatus {
  state: ContractState;
  contractId: string | null;
  signedAt: Date | null;
  /** YYYY-MM-DD (Europe/Brussels local date). */
  serviceStartDate: string | null;
  /** YYYY-MM-DD, start + minimum term − 1 day (§11.1); null before installation. */
  minimumTermEnd: string | null;
  /** YYYY-MM-DD, the last day of service once known. */
  endDate: string | null;
  /** Enabled options: 'premium', 'international' (§4.3b). */
  enabled: string[];
}

/**
 * The client's current contract status. Provisioning needs a signed, not terminated
 * contract (§2.2, §13.1): state ∈ signed, active, indefinite, terminating.
 */
export async function contractStatusOf(db: DbOrTx, clientId: string): Promise<ContractStatus> {
  const c = await currentContract(db, clientId);
  if (!c) return { state: 'none', contractId: null, signedAt: null, serviceStartDate: null, minimumTermEnd: null, endDate: null, enabled: [] };
  return {
    state: c.state,
    contractId: c.id,
    signedAt: c.signedAt,
    serviceStartDate: c.serviceStartDate,
    minimumTermEnd: c.minimumTermEnd,
    endDate: c.endDate,
    enabled: [...c.enabled],
  };
}

export interface ContractLineQuantity {
  productCode: string;
  kind: string;
  unit: string | null;
  quantity: number;
  priceCents: number | null;
}

const withProducts = (lines: readonly ContractLineRow[], products: ReadonlyMap<string, Product>): ContractLineQuantity[] =>
  lines.map((l) => {
    const p = products.get(l.productCode);
    return { productCode: l.productCode, kind: p?.kind ?? 'unknown', unit: p?.unit ?? null, quantity: l.quantity, priceCents: l.priceCents };
  });

/** §8.4: the current contract's lines with their product's kind and unit (quantities of `fixed` units, one-offs, hardware). */
export async function contractLineQuantities(db: DbOrTx, clientId: string): Promise<ContractLineQuantity[]> {
  return (await contractLineQuantitiesOf(db, [clientId])).get(clientId)?.lines ?? [];
}

/**
 * `contractLineQuantities` of several clients in three statements (current contracts, their
 * lines, the products), keyed by client, with the contract the lines belong to. A contract's
 * lines are written with it and never changed: the caller that reads them ahead of its
 * transaction checks there that the client's current contract is still `contractId`.
 */
export async function contractLineQuantitiesOf(db: DbOrTx, clientIds: readonly string[]): Promise<Map<string, { contractId: string; lines: ContractLineQuantity[] }>> {
  const contracts = (await currentContracts(db, clientIds)).filter((c) => c.state !== 'draft');
  const lines = await linesOfContracts(db, contracts.map((c) => c.id));
  const products = new Map((await listProducts(db)).map((p) => [p.code, p]));
  return new Map(contracts.map((c) => [c.clientId, { contractId: c.id, lines: withProducts(lines.get(c.id) ?? [], products) }]));
}
