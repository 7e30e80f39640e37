/**
 * §8.1 the billing run: every client with a live contract, in id order, one transaction
 * per client (bill-client.ts). Crash-safe: the cursor is saved as clients commit, and a
 * client already invoiced for the run is skipped (unique (client, run key)).
 *
 * `concurrency` clients are billed at once, each in its own transaction on its own
 * connection (PostgreSQL: 2, one per core; PGlite runs one transaction at a time anyway).
 * The invoice number is the only serial point: it is taken at the end of a client's
 * transaction (issue-invoice.ts), so the counter row stays locked only from there to the
 * commit, and numbers stay gap-free in commit order. Clients then finish out of order: the
 * cursor saved is the last client of the longest run of finished clients from the start
 * (every client up to it is committed), so a rerun never skips an unfinished one.
 *
 * The facts that do not race with a client's transaction (bill-client.ts `RunFacts`) are read
 * for `groupSize` clients at once, ahead of their transactions (the next group's while the
 * current one is billed): four statements per group instead of five per client.
 */
import type { Db } from '../../db/client.ts';
import { clientsWithLiveContract } from '../customers/contract-store.ts';
import { billClient, readRunFacts, type RunFacts } from './bill-client.ts';

export interface BillingRunOptions {
  db: Db;
  /** The run instant (the job's due instant): 00:00 local on the billing day. */
  at: Date;
  cursor?: string | null;
  saveCursor?: (cursor: string) => Promise<void>;
  /** Called after each client's transaction committed (progress, benchmarks, the crash test). */
  afterClient?: (clientId: string, invoiceId: string | null) => Promise<void>;
  /** Clients billed at once, each in its own transaction (default 1). */
  concurrency?: number;
  /** Clients whose facts are read together before their transactions (default `RUN_FACTS_GROUP`). */
  groupSize?: number;
}

/** Clients read together (`readRunFacts`): a group's reads cost about one client's statements. */
export const RUN_FACTS_GROUP = 50;

/** Clients billed at once on a database: two on PostgreSQL (one per core); PGlite runs one transaction at a time. */
export const runConcurrencyFor = (kind: 'pglite' | 'postgres'): number => (kind === 'postgres' ? 2 : 1);

/** Returns the ids of the invoices issued (in the order their clients finished). */
export async function runBilling(opts: BillingRunOptions): Promise<string[]> {
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer (${concurrency})`);
  const clientIds = (await clientsWithLiveContract(opts.db)).filter((id) => !opts.cursor || id > opts.cursor);
  const issued: string[] = [];
  const finished = new Array<boolean>(clientIds.length).fill(false);
  let next = 0; // the next client to start
  let low = 0; // every client before it has finished
  const failures: unknown[] = []; // the first error stops every worker before its next client
  let saving: Promise<void> = Promise.resolve();
  const groupSize = opts.groupSize ?? RUN_FACTS_GROUP;
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`groupSize must be a positive integer (${groupSize})`);
  const groups = new Map<number, Promise<Map<string, RunFacts>>>();
  const readGroup = (g: number): Promise<Map<string, RunFacts>> => {
    let read = groups.get(g);
    if (!read) {
      read = readRunFacts(opts.db, clientIds.slice(g * groupSize, (g + 1) * groupSize), opts.at);
      read.catch(() => undefined); // read ahead: its error is thrown to the worker that awaits it
      groups.set(g, read);
      groups.delete(g - 2); // memory flat: two groups behind are finished or being finished by their workers
    }
    return read;
  };
  /** The client's facts; starting a group also starts reading the next one. */
  const factsOf = async (i: number): Promise<RunFacts | undefined> => {
    const g = Math.floor(i / groupSize);
    if ((g + 1) * groupSize < clientIds.length) void readGroup(g + 1);
    return (await readGroup(g)).get(clientIds[i]!);
  };

  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < clientIds.length) {
      const i = next++;
      const clientId = clientIds[i]!;
      try {
        const facts = await factsOf(i);
        const id = await opts.db.transaction((tx) => billClient(tx, clientId, opts.at, facts));
        if (id !== null) issued.push(id);
        finished[i] = true;
        if (i === low) {
          while (low < clientIds.length && finished[low]) low++;
          const cursor = clientIds[low - 1]!;
          // In order, one at a time: a later cursor is never overwritten by an earlier one.
          saving = saving.then(() => opts.saveCursor?.(cursor));
          await saving;
        }
        await opts.afterClient?.(clientId, id);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, clientIds.length)) }, worker));
  if (failures.length > 0) throw failures[0];
  return issued;
}
