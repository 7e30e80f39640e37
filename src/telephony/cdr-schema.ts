import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Call detail records: one row per call attempt. The SIP B2BUA opens the row at the
 * INVITE (`ended_at` null while the call lasts), sets `answered_at` at the 2xx and
 * closes it at the end (who hung up, why); rows left open by a crash are closed at the
 * next start-up (`crash_recovery`). The scenario runner's `call` writes it at once.
 * Rating fills the rating columns later (§8.3); billing sets `invoice_id` when it
 * invoices the call. The decision that allowed or refused it is kept with its clause.
 *
 * Storage (migration `cdrs_hot_rating`): fillfactor 85, and no index on a column that the rating, the
 * answer or the invoice mark write (`rated_at`, `zone`, `pack_seconds`, `cost_cents`,
 * `answered_at`, `invoice_id`), so that those updates are HOT (heap-only: the new row
 * version on the same page, no index entry); unrated calls are found through
 * `cdrs_client_started_idx` (client, start) with a filter.
 */
export const cdrs = pgTable(
  'cdrs',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    /** The calling user (outbound, internal) or the called user (inbound); null when none. */
    userId: uuid('user_id'),
    /** SIP Call-ID of the caller's leg; null for a simulated call. */
    callId: text('call_id'),
    direction: text('direction', { enum: ['outbound', 'inbound', 'internal'] }).notNull(),
    fromExtension: text('from_extension'),
    /** As dialled. */
    dialled: text('dialled').notNull(),
    /** E.164 or a short (emergency) number; the extension for an internal call. */
    destination: text('destination').notNull(),
    /** The caller ID presented to the network after the policy (§17.1); null = none/anonymous. */
    callerId: text('caller_id'),
    callerIdReplaced: boolean('caller_id_replaced').notNull().default(false),
    emergency: boolean('emergency').notNull().default(false),
    allowed: boolean('allowed').notNull(),
    /** The clause of a refusal (`8.7`, `4.3b`, `13.1`…), null when allowed. */
    clause: text('clause'),
    sipStatus: integer('sip_status').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    /** ceil(answer → hang-up) in seconds (§8.3); 0 when unanswered or refused. */
    billableSeconds: integer('billable_seconds').notNull().default(0),
    /** Who ended the call: `caller`, `callee` or `system` (refusal, timeout, max duration, recovery); null while open. */
    hangupBy: text('hangup_by', { enum: ['caller', 'callee', 'system'] }),
    /** Why it ended (`CdrEndReason`); null while open. */
    endReason: text('end_reason'),
    /** The call policy's admission handle (§4.3b live limits), to release it after a crash. */
    admission: text('admission'),
    /** The SIP node that handles the call (crash recovery closes only its own open rows). */
    sipNode: text('sip_node'),
    // Rating (§8.3): null until rated.
    ratedAt: timestamp('rated_at', { withTimezone: true }),
    zone: text('zone'),
    packSeconds: integer('pack_seconds'),
    costCents: integer('cost_cents'),
    /** The invoice that billed it (billing), null while not invoiced. */
    invoiceId: uuid('invoice_id'),
  },
  (t) => [
    index('cdrs_client_started_idx').on(t.clientId, t.startedAt),
    index('cdrs_call_id_idx').on(t.callId),
    index('cdrs_open_idx').on(t.sipNode).where(sql`ended_at is null`),
  ],
);
