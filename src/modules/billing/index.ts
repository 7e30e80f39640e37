/**
 * The billing module's public API: the billing run (§8.1), invoices and their numbering,
 * one-offs at installation, the final invoice. Registers `invoiceOneOffs` into customers'
 * `onInstallationComplete` and `invoiceFinal` into `onClientTerminated`.
 */
import { onClientTerminated, onInstallationComplete, type ClientHook } from '../customers/hooks.ts';
import { invoiceFinal } from './invoice-final.ts';
import { invoiceOneOffs } from './invoice-one-offs.ts';

export { billClient, quantityFor, runKeyOf } from './bill-client.ts';
export { runBilling, type BillingRunOptions } from './billing-run.ts';
export { billingDayOf, setBillingDay, DEFAULT_BILLING_DAY } from './billing-day.ts';
export { billingRunJob } from './jobs.ts';
export { invoiceOneOffs } from './invoice-one-offs.ts';
export { invoiceFinal } from './invoice-final.ts';
export { collectTraffic, markTrafficInvoiced, type Traffic } from './traffic-lines.ts';
export { issueInvoice, invoiceExists, type NewInvoiceLine, type IssueInvoiceOptions } from './issue-invoice.ts';
export { listClientInvoices, type InvoiceView, type InvoiceLineView } from './list-client-invoices.ts';
export { pendingItemProviders, onInvoiceIssued, balanceAdjusters, collectPendingItems, type PendingItems, type PendingItemsProvider, type IssuedInvoice, type InvoiceIssuedHook, type BalanceAdjuster } from './hooks.ts';
export { billingRoutes } from './routes.ts';
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
