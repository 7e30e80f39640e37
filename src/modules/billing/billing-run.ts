/**
 * §8.1 the billing run: every client with a live contract, in id order, one transaction
 * per client (bill-client.ts). Crash-safe: the cursor is saved after each client, and a
 * client already invoiced for the run is skipped (unique (client, run key)).
 */
import type { Db } from '../../db/client.ts';
import { clientsWithLiveContract } from '../customers/contract-store.ts';
import { billClient } from './bill-client.ts';

export interface BillingRunOptions {
  db: Db;
  /** The run instant (the job's due instant): 00:00 local on the billing day. */
  at: Date;
  cursor?: string | null;
  saveCursor?: (cursor: string) => Promise<void>;
  /** Called after each client's transaction committed (progress, benchmarks, the crash test). */
  afterClient?: (clientId: string, invoiceId: string | null) => Promise<void>;
}

/** Returns the ids of the invoices issued. */
export async function runBilling(opts: BillingRunOptions): Promise<string[]> {
  const issued: string[] = [];
  for (const clientId of await clientsWithLiveContract(opts.db)) {
    if (opts.cursor && clientId <= opts.cursor) continue;
    const id = await opts.db.transaction((tx) => billClient(tx, clientId, opts.at));
    if (id !== null) issued.push(id);
    await opts.saveCursor?.(clientId);
    await opts.afterClient?.(clientId, id);
  }
  return issued;
}
