import { date, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * Received payments (RULES.md "Dunning and suspension": manual entry for now; CAMT.053 /
 * CODA later). A payment naming no known client or invoice keeps `clientId` null
 * (unallocated, for staff). What is not allocated to invoices is client credit.
 */
export const payments = pgTable(
  'payments_payments',
  {
    id: uuid('id').primaryKey(),
    /** Idempotency: a second payment with the same external id is the same payment. */
    externalId: text('external_id'),
    clientId: uuid('client_id'),
    amountCents: integer('amount_cents').notNull(),
    paidAt: timestamp('paid_at', { withTimezone: true }).notNull(),
    reference: text('reference'),
    invoiceNumber: text('invoice_number'),
    payerIban: text('payer_iban'),
    /** `matched` (reference / invoice number), `client` (oldest open invoice), `unallocated`. */
    matchedBy: text('matched_by', { enum: ['reference', 'invoice_number', 'client', 'unallocated'] }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('payments_payments_external_uq').on(t.externalId), index('payments_payments_client_idx').on(t.clientId, t.paidAt)],
);

/** A part of a payment applied to an invoice, at the instant it was applied (payment, or invoice issue for credit). */
export const allocations = pgTable(
  'payments_allocations',
  {
    id: uuid('id').primaryKey(),
    paymentId: uuid('payment_id').notNull(),
    invoiceId: uuid('invoice_id').notNull(),
    clientId: uuid('client_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [index('payments_allocations_invoice_idx').on(t.invoiceId), index('payments_allocations_payment_idx').on(t.paymentId)],
);

export const DUNNING_STEPS = ['reminder_1', 'reminder_2', 'formal_notice'] as const;
export type DunningStep = (typeof DUNNING_STEPS)[number];

/** Dunning steps already taken per invoice (RULES.md "Dunning and suspension"). */
export const dunningNotices = pgTable(
  'payments_dunning_notices',
  {
    invoiceId: uuid('invoice_id').notNull(),
    clientId: uuid('client_id').notNull(),
    step: text('step', { enum: DUNNING_STEPS }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('payments_dunning_notices_uq').on(t.invoiceId, t.step)],
);

/** §9.1a/b suspensions decided by dunning; open while `reactivatedAt` is null. */
export const suspensions = pgTable(
  'payments_suspensions',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    clause: text('clause').notNull(),
    suspendedAt: timestamp('suspended_at', { withTimezone: true }).notNull(),
    suspendedOn: date('suspended_on', { mode: 'string' }).notNull(),
    /** §12.2a: when the client became eligible for termination (suspended 1 month). */
    terminationEligibleAt: timestamp('termination_eligible_at', { withTimezone: true }),
    reactivatedAt: timestamp('reactivated_at', { withTimezone: true }),
  },
  (t) => [index('payments_suspensions_client_idx').on(t.clientId)],
);

/** §8.1 point 5 pending items (§5.2 interest, §8.8 reminder fee), billed on the next invoice. */
export const pendingItems = pgTable(
  'payments_pending_items',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    type: text('type', { enum: ['interest', 'reminder_fee'] }).notNull(),
    /** The late invoice the item is about. */
    sourceInvoiceId: uuid('source_invoice_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    description: text('description').notNull(),
    clause: text('clause').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** The invoice that billed it; null while pending. */
    billedOn: uuid('billed_on'),
  },
  (t) => [uniqueIndex('payments_pending_items_uq').on(t.sourceInvoiceId, t.type), index('payments_pending_items_client_idx').on(t.clientId)],
);
