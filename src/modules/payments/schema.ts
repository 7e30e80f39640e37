import { date, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * Received payments (RULES.md "Dunning and suspension": manual entry for now; CAMT.053 /
 * CODA later). A payment naming no known client or invoice keeps `clientId` null
 * (unallocated, for staff). What is not allocated to invoices is client credit.
 */
export const PAYMENT_MATCHES = ['reference', 'invoice_number', 'client', 'iban', 'staff', 'deposit', 'credit_note', 'unallocated'] as const;
export type PaymentMatch = (typeof PAYMENT_MATCHES)[number];

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
    /**
     * `reference` (structured communication), `invoice_number` (given or in the free text),
     * `client` (named: oldest open invoice), `iban` (the payer's IBAN known for one client),
     * `staff` (allocated by staff from the unallocated queue), `deposit` (§5.3 offset), `credit_note`
   * (a credit note settling the invoice it credits, the rest client credit), `unallocated`.
     */
    matchedBy: text('matched_by', { enum: PAYMENT_MATCHES }).notNull(),
    /** Unstructured remittance text of a bank payment. */
    freeText: text('free_text'),
    /** The bank statement entry it comes from (null for a manual payment). */
    bankEntryId: uuid('bank_entry_id'),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('payments_payments_external_uq').on(t.externalId),
    index('payments_payments_client_idx').on(t.clientId, t.paidAt),
    index('payments_payments_iban_idx').on(t.payerIban),
  ],
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

/**
 * Suspensions, open while `reactivatedAt` is null: `dunning` (§9.1a/b, to minimum service,
 * lifted automatically by the payment that settles the overdue amounts) and `staff`
 * (§9.1c breach → minimum service, §9.2 security → security_suspended; lifted by staff only).
 */
export const suspensions = pgTable(
  'payments_suspensions',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    kind: text('kind', { enum: ['dunning', 'staff'] }).notNull().default('dunning'),
    clause: text('clause').notNull(),
    /** Staff suspensions: the recorded reason and who decided; the reason given at reactivation. */
    reason: text('reason'),
    actor: text('actor'),
    reactivationReason: text('reactivation_reason'),
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

/** Bank statements imported (CAMT.053, CODA); unique by statement id (idempotent import). */
export const bankStatements = pgTable(
  'payments_bank_statements',
  {
    id: uuid('id').primaryKey(),
    /** `camt053:<IBAN>:<Stmt/Id>` or `coda:<IBAN>:<year>:<sequence>`. */
    statementId: text('statement_id').notNull(),
    format: text('format', { enum: ['camt053', 'coda'] }).notNull(),
    account: text('account').notNull(),
    statementDate: date('statement_date', { mode: 'string' }).notNull(),
    fileSha256: text('file_sha256').notNull(),
    entries: integer('entries').notNull(),
    importedAt: timestamp('imported_at', { withTimezone: true }).notNull(),
    importedBy: text('imported_by').notNull(),
  },
  (t) => [uniqueIndex('payments_bank_statements_uq').on(t.statementId)],
);

/** Every entry of an imported statement, credit or debit; unique per account and entry id. */
export const bankEntries = pgTable(
  'payments_bank_entries',
  {
    id: uuid('id').primaryKey(),
    statementRowId: uuid('statement_row_id').notNull(),
    account: text('account').notNull(),
    entryId: text('entry_id').notNull(),
    direction: text('direction', { enum: ['credit', 'debit'] }).notNull(),
    amountCents: integer('amount_cents').notNull(),
    bookingDate: date('booking_date', { mode: 'string' }).notNull(),
    valueDate: date('value_date', { mode: 'string' }).notNull(),
    structuredReference: text('structured_reference'),
    freeText: text('free_text'),
    payerIban: text('payer_iban'),
    payerName: text('payer_name'),
    bankReference: text('bank_reference'),
    /** The payment a credit entry became; null for a debit (listed, not a payment). */
    paymentId: uuid('payment_id'),
  },
  (t) => [uniqueIndex('payments_bank_entries_uq').on(t.account, t.entryId), index('payments_bank_entries_statement_idx').on(t.statementRowId)],
);

/** §9.3 bank guarantees covering a disputed invoice amount; active while `releasedAt` is null. */
export const guarantees = pgTable(
  'payments_guarantees',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    invoiceId: uuid('invoice_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    /** The bank's guarantee reference, free text. */
    reference: text('reference'),
    registeredAt: timestamp('registered_at', { withTimezone: true }).notNull(),
    releasedAt: timestamp('released_at', { withTimezone: true }),
  },
  (t) => [index('payments_guarantees_client_idx').on(t.clientId), index('payments_guarantees_invoice_idx').on(t.invoiceId)],
);

/**
 * §5.3 deposit movements (the amount required is `clients.deposit_cents`): `received`
 * (staff record the money), `offset` (applied to debts, at termination), `refunded`.
 * The deposit held = received − offset − refunded; it earns no interest.
 */
export const depositMovements = pgTable(
  'payments_deposit_movements',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    kind: text('kind', { enum: ['received', 'offset', 'refunded'] }).notNull(),
    amountCents: integer('amount_cents').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** The payment an offset became (allocated to open invoices). */
    paymentId: uuid('payment_id'),
    note: text('note'),
  },
  (t) => [index('payments_deposit_movements_client_idx').on(t.clientId, t.at)],
);
