/**
 * The payments module's public API: recording payments (matching, client credit), the
 * dunning policy and its daily job (§5.2, §8.8, §9.1a/b, §12.2a), reactivation, pending
 * interest and reminder fees. Registers into billing's hooks: pending items on the next
 * invoice, client credit applied to each invoice issued, and the balance adjustment.
 */
import { balanceAdjusters, onInvoiceIssued, pendingItemProviders } from '../billing/hooks.ts';
import { applyClientCredit, balanceAdjustment } from './ledger.ts';
import { pendingItemsOf } from './pending-items.ts';

export { recordPayment, type RecordPaymentOptions, type PaymentView } from './record-payment.ts';
export { runDunning, dunClient } from './run-dunning.ts';
export { dunningJob } from './jobs.ts';
export { clientCreditCents, openAmountCents, lateInterest, LATE_INTEREST_BASIS_POINTS } from './ledger.ts';
export * from './dunning-policy.ts';
export { paymentRoutes } from './routes.ts';

// Module load runs once: register into billing.
pendingItemProviders.push(pendingItemsOf);
onInvoiceIssued.push((tx, invoice) => applyClientCredit(tx, invoice.id, invoice.at));
balanceAdjusters.push(balanceAdjustment);
