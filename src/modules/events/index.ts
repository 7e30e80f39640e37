import { and, asc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { domainEvents } from './schema.ts';

export interface DomainEvent {
  at: Date;
  clientId: string | null;
  /** e.g. `reminder`, `suspension`, `renewal`, `notice`, `number_released` (SCENARIOS.md). */
  type: string;
  /** The clause that decided, e.g. "9.1a"; null when none. */
  clause: string | null;
  details: Record<string, unknown>;
}

/** Records an event; call it with the transaction that makes the change it describes. */
export async function recordEvent(tx: DbOrTx, event: DomainEvent): Promise<void> {
  await tx.insert(domainEvents).values(event);
}

export interface EventFilter {
  clientId?: string;
  type?: string;
  from?: Date;
  to?: Date;
}

/** Events in the order they happened (instant, then recording order). */
export async function listEvents(db: DbOrTx, filter: EventFilter = {}): Promise<(DomainEvent & { id: number })[]> {
  const where: SQL[] = [];
  if (filter.clientId) where.push(eq(domainEvents.clientId, filter.clientId));
  if (filter.type) where.push(eq(domainEvents.type, filter.type));
  if (filter.from) where.push(gte(domainEvents.at, filter.from));
  if (filter.to) where.push(lte(domainEvents.at, filter.to));
  return db
    .select()
    .from(domainEvents)
    .where(and(...where))
    .orderBy(asc(domainEvents.at), asc(domainEvents.id));
}
