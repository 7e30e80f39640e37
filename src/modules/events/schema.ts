import { bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Domain events: what the rules decided (reminder, suspension, renewal, notice,
 * number_released…), each with the clause that decided it. The scenario report's
 * `events` and the client's timeline read them. Append-only.
 */
export const domainEvents = pgTable(
  'domain_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    clientId: uuid('client_id'),
    type: text('type').notNull(),
    clause: text('clause'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('domain_events_client_at_idx').on(t.clientId, t.at), index('domain_events_type_at_idx').on(t.type, t.at)],
);
