import { sql } from 'drizzle-orm';
import { date, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { DocumentParties } from './documents/parties.ts';

/** RULES.md "Invoice numbers": the last number issued per series and year, locked FOR UPDATE while issuing. */
export const invoiceCounters = pgTable('billing_invoice_counters', {
  /** `invoice:2027` or `credit_note:2027`. */
  series: text('series').primaryKey(),
  last: integer('last').notNull(),
});

/** Issued invoices (§8.1, §5.2); an issued invoice never changes (credit notes correct it). */
export const invoices = pgTable(
  'billing_invoices',
  {
    id: uuid('id').primaryKey(),
    /** `YYYY-NNNNNN`, gap-free per year (credit notes `NCYYYY-NNNNNN`). */
    number: text('number').notNull(),
    kind: text('kind', { enum: ['invoice', 'credit_note'] }).notNull(),
    clientId: uuid('client_id').notNull(),
    /** What issued it, unique per client: `installation:<contract id>`, `run:YYYY-MM` (a rerun skips it). */
    runKey: text('run_key').notNull(),
    issueDate: date('issue_date', { mode: 'string' }).notNull(),
    /** §5.2: issue date + 30 days. */
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
    /** §8.1 run invoices: the recurring period billed in advance (through the last day of P+1); null otherwise. */
    periodStart: date('period_start', { mode: 'string' }),
    periodEnd: date('period_end', { mode: 'string' }),
    totalExclVatCents: integer('total_excl_vat_cents').notNull(),
    vatCents: integer('vat_cents').notNull(),
    totalInclVatCents: integer('total_incl_vat_cents').notNull(),
    structuredReference: text('structured_reference').notNull(),
    status: text('status', { enum: ['open', 'paid'] }).notNull().default('open'),
    /** Credit notes (§8 "corrections are credit notes"): the invoice corrected, and why. */
    creditedInvoiceId: uuid('credited_invoice_id'),
    reason: text('reason'),
    /**
     * The seller and buyer identities as they were at issue (name, address, VAT number,
     * IBAN…), so that the PDF and the UBL of an issued invoice never change; null on
     * invoices issued before this column existed (the documents then use today's values).
     */
    parties: jsonb('parties').$type<DocumentParties>(),
  },
  (t) => [
    uniqueIndex('billing_invoices_number_uq').on(t.number),
    uniqueIndex('billing_invoices_client_run_uq').on(t.clientId, t.runKey),
    index('billing_invoices_client_idx').on(t.clientId, t.issueDate),
    index('billing_invoices_credited_idx').on(t.creditedInvoiceId).where(sql`credited_invoice_id is not null`),
  ],
);

export const INVOICE_LINE_TYPES = [
  'one_off',
  'recurring',
  'prorata',
  'regularisation',
  'traffic',
  'interest',
  'reminder_fee',
  'defect_credit',
  'termination_fee',
  'intervention',
] as const;
export type InvoiceLineType = (typeof INVOICE_LINE_TYPES)[number];

export const invoiceLines = pgTable(
  'billing_invoice_lines',
  {
    id: uuid('id').primaryKey(),
    invoiceId: uuid('invoice_id').notNull(),
    clientId: uuid('client_id').notNull(),
    /** Order of the line on the invoice. */
    position: integer('position').notNull(),
    type: text('type', { enum: INVOICE_LINE_TYPES }).notNull(),
    productCode: text('product_code'),
    zone: text('zone'),
    quantity: integer('quantity').notNull(),
    periodStart: date('period_start', { mode: 'string' }),
    periodEnd: date('period_end', { mode: 'string' }),
    amountCents: integer('amount_cents').notNull(),
    /** 21 (category S) or 0 (category O). */
    vatRate: integer('vat_rate').notNull(),
    /** The clause that produced the line (`8.1`, `8.3`, `8.5`). */
    clause: text('clause'),
    /** Free text of pending items, e.g. `Intérêts de retard — facture N (d jours)` (§5.2). */
    description: text('description'),
    /** Credit note lines: the invoice line credited (a line is never credited beyond its amount). */
    creditedLineId: uuid('credited_line_id'),
  },
  (t) => [
    index('billing_invoice_lines_invoice_idx').on(t.invoiceId, t.position),
    index('billing_invoice_lines_client_product_idx').on(t.clientId, t.productCode).where(sql`product_code is not null`),
  ],
);
