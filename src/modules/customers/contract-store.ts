/** Reading contracts (the customers module's tables only). */
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { contractLines, contracts } from './schema.ts';

export type ContractRow = typeof contracts.$inferSelect;
export type ContractLineRow = typeof contractLines.$inferSelect;

/** States in which a contract is signed and not terminated (§2.2, §13.1; price notices §5.6/§8.2). */
export const LIVE_STATES = ['signed', 'active', 'indefinite', 'terminating'] as const;

/** The client's current contract: its latest one. */
export async function currentContract(db: DbOrTx, clientId: string, forUpdate = false): Promise<ContractRow | undefined> {
  const q = db.select().from(contracts).where(eq(contracts.clientId, clientId)).orderBy(desc(contracts.createdAt), desc(contracts.id)).limit(1);
  const [row] = forUpdate ? await q.for('update') : await q;
  return row;
}

/** The current contract (as `currentContract`: the latest) of each of the clients that has one, by one statement. */
export async function currentContracts(db: DbOrTx, clientIds: readonly string[]): Promise<ContractRow[]> {
  if (clientIds.length === 0) return [];
  return db
    .selectDistinctOn([contracts.clientId])
    .from(contracts)
    .where(inArray(contracts.clientId, [...clientIds]))
    .orderBy(contracts.clientId, desc(contracts.createdAt), desc(contracts.id));
}

export async function loadContract(db: DbOrTx, clientId: string, contractId: string, forUpdate = false): Promise<ContractRow | undefined> {
  const q = db
    .select()
    .from(contracts)
    .where(and(eq(contracts.id, contractId), eq(contracts.clientId, clientId)))
    .limit(1);
  const [row] = forUpdate ? await q.for('update') : await q;
  return row;
}

export async function linesOf(db: DbOrTx, contractId: string): Promise<ContractLineRow[]> {
  return db.select().from(contractLines).where(eq(contractLines.contractId, contractId)).orderBy(contractLines.id);
}

/** The lines of several contracts in one statement, each contract's in `linesOf`'s order. */
export async function linesOfContracts(db: DbOrTx, contractIds: readonly string[]): Promise<Map<string, ContractLineRow[]>> {
  const byContract = new Map<string, ContractLineRow[]>();
  if (contractIds.length === 0) return byContract;
  for (const l of await db.select().from(contractLines).where(inArray(contractLines.contractId, [...contractIds])).orderBy(contractLines.id)) {
    const list = byContract.get(l.contractId) ?? [];
    list.push(l);
    byContract.set(l.contractId, list);
  }
  return byContract;
}

/** Ids of the clients whose current contract is signed and not terminated. */
export async function clientsWithLiveContract(db: DbOrTx): Promise<string[]> {
  const rows = await db
    .selectDistinct({ clientId: contracts.clientId })
    .from(contracts)
    .where(inArray(contracts.state, [...LIVE_STATES]))
    .orderBy(contracts.clientId);
  return rows.map((r) => r.clientId);
}
