import type { DbOrTx } from '../db/client.ts';
import { newId } from '../kernel/ids.ts';
import { cdrs } from './cdr-schema.ts';

export type CdrInput = Omit<typeof cdrs.$inferInsert, 'id' | 'ratedAt' | 'zone' | 'packSeconds' | 'costCents' | 'invoiceId'>;

/** Writes one call detail record; returns its id. */
export async function recordCdr(db: DbOrTx, cdr: CdrInput): Promise<string> {
  const id = newId(cdr.startedAt);
  await db.insert(cdrs).values({ ...cdr, id });
  return id;
}
