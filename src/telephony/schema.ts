import { doublePrecision, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * The location service (RFC 3261 §10): one row per registered contact of a user.
 * Kept in the database so that a restart or another SIP node sees the same phones.
 * A row past `expires_at` is dead: ignored on lookup, purged by the registrar.
 */
export const sipBindings = pgTable(
  'sip_bindings',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    userId: uuid('user_id').notNull(),
    /** Address-of-record, `sip:username@domain`. */
    aor: text('aor').notNull(),
    /** The Contact URI as registered. */
    contactUri: text('contact_uri').notNull(),
    /** Where the REGISTER came from (RFC 3581): how to reach the phone behind NAT. */
    sourceAddress: text('source_address').notNull(),
    sourcePort: integer('source_port').notNull(),
    sourceTransport: text('source_transport').notNull(),
    callId: text('call_id').notNull(),
    cseq: integer('cseq').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    q: doublePrecision('q').notNull().default(1),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('sip_bindings_aor_contact_uq').on(t.aor, t.contactUri),
    index('sip_bindings_client_user_idx').on(t.clientId, t.userId),
    index('sip_bindings_expires_idx').on(t.expiresAt),
  ],
);
