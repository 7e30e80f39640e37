/**
 * The billing module's public API: the billing run (§8.1), invoices and their numbering,
 * one-offs at installation, the final invoice. Registers `invoiceOneOffs` into customers'
 * `onInstallationComplete` and `invoiceFinal` into `onClientTerminated`.
 */
import { onClientTerminated, onInstallationComplete, type ClientHook } from '../customers/hooks.ts';
import { invoiceFinal } from './invoice-final.ts';
import { invoiceOneOffs } from './invoice-one-offs.ts';

export { billClient, quantityFor, runKeyOf } from './bill-client.ts';
export { runBilling, runConcurrencyFor, type BillingRunOptions } from './billing-run.ts';
export { billingDayOf, setBillingDay, DEFAULT_BILLING_DAY } from './billing-day.ts';
export { billingRunJob } from './jobs.ts';
export { invoiceOneOffs } from './invoice-one-offs.ts';
export { invoiceFinal } from './invoice-final.ts';
export { collectTraffic, releaseTraffic, type Traffic } from './traffic-lines.ts';
export { issueInvoice, invoiceExists, type NewInvoiceLine, type IssueInvoiceOptions } from './issue-invoice.ts';
export { listClientInvoices, type InvoiceView, type InvoiceLineView } from './list-client-invoices.ts';
export { pendingItemProviders, onInvoiceIssued, balanceAdjusters, onCreditNoteIssued, collectPendingItems, type IssuedCreditNote, type CreditNoteIssuedHook, type PendingItems, type PendingItemsProvider, type IssuedInvoice, type InvoiceIssuedHook, type BalanceAdjuster } from './hooks.ts';
export { billingRoutes, BILLING_ROLES } from './routes.ts';
export { issueCreditNote, CREDIT_NOTE_CLAUSE, type IssueCreditNoteOptions, type CreditNoteView, type CreditLineRequest } from './issue-credit-note.ts';
export { searchInvoices, getInvoice, invoiceIdByNumber, type InvoiceFilter, type InvoiceListItem } from './search-invoices.ts';
export { previewRun, nextRunInstant, type RunPreview, type PreviewItem } from './preview-run.ts';
export { invoicePdf, invoiceUbl } from './documents/render.ts';
export { DocumentPool, InvoiceFeed, type RenderedDocument } from './documents/pool.ts';
export { loadDocument, type BillingDocument } from './documents/document.ts';
export { toUbl } from './documents/ubl.ts';
export { checkPeppolUbl } from './documents/ubl-check.ts';
export { sellerIdentity, setSellerIdentity, DEFAULT_SELLER, type SellerIdentity } from './documents/parties.ts';
export { listInvoices, balanceCents, type InvoiceRow, type InvoiceLineRow } from './invoice-queries.ts';
export { invoiceTotals, dueDateOf, formatInvoiceNumber, VAT_RATE, PAYMENT_TERM_DAYS } from './invoice-totals.ts';
export { monthSegments, segmentAmountCents, billedThrough, type MonthSegment } from './proration.ts';

// §8.1: one-offs are invoiced at installation, in the installation's transaction.
const oneOffsHook: ClientHook = async (tx, clientId, at) => {
  await invoiceOneOffs(tx, clientId, at);
};
onInstallationComplete.push(oneOffsHook);

// RULES.md "Every termination": the final invoice, in the terminating transaction.
const finalHook: ClientHook = async (tx, clientId, at) => {
  await invoiceFinal(tx, clientId, at);
};
onClientTerminated.push(finalHook);
