import { bigserial, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Failed SIP authentications still inside the counting window (RULES §4.4/§4.10):
 * one row per failure and per key (`source` = the remote IP address, `account` =
 * the digest username). Shared by every SIP node; the rows of a key are deleted
 * when it gets blocked, and rows older than the window are purged.
 */
export const sipAuthFailures = pgTable(
  'sip_auth_failures',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind', { enum: ['source', 'account'] }).notNull(),
    key: text('key').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sip_auth_failures_key_at_idx').on(t.kind, t.key, t.at)],
);

/**
 * Blocks decided by the brute-force limits: a source refused, or an account
 * locked, until `until`; staff may lift one earlier (`lifted_at`). History is kept.
 */
export const sipBlocks = pgTable(
  'sip_blocks',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: ['source', 'account'] }).notNull(),
    key: text('key').notNull(),
    /** The client of the locked account (or of the last account tried from the source), when known. */
    clientId: uuid('client_id'),
    /** The reason of the failure that triggered the block. */
    reason: text('reason'),
    blockedAt: timestamp('blocked_at', { withTimezone: true }).notNull(),
    until: timestamp('until', { withTimezone: true }).notNull(),
    liftedAt: timestamp('lifted_at', { withTimezone: true }),
    liftedBy: text('lifted_by'),
  },
  (t) => [index('sip_blocks_key_idx').on(t.kind, t.key, t.until), index('sip_blocks_until_idx').on(t.until)],
);
