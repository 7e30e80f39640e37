import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { clients, type ServiceState } from './schema.ts';

/** The client's service state (§8.7, §9.2, §13.1); null for an unknown client. */
export async function serviceStateOf(db: DbOrTx, clientId: string): Promise<ServiceState | null> {
  const [row] = await db.select({ s: clients.serviceState }).from(clients).where(eq(clients.id, clientId)).limit(1);
  return row?.s ?? null;
}

/** For the modules that decide it (dunning §9.1, fraud §9.2): sets the state; the caller records event and audit in `tx`. */
export async function setServiceState(tx: DbOrTx, clientId: string, state: ServiceState): Promise<void> {
  await tx.update(clients).set({ serviceState: state }).where(eq(clients.id, clientId));
}
