/**
 * The payments module's public API: recording payments (matching, client credit), bank
 * statement import (CAMT.053, CODA), the unallocated queue, the dunning policy and its
 * daily job (§5.2, §8.8, §9.1a/b, §12.2a), reactivation, staff suspension (§9.1c, §9.2),
 * guarantees (§9.3), deposits (§5.3), pending interest and reminder fees, and the account
 * views. Registers into billing's hooks (pending items on the next invoice, client credit
 * applied to each invoice issued, the balance adjustment; the deposit offset on the final
 * invoice; credit notes settle the invoice they credit) and customers' termination hook (deposit offset, §5.3).
 */
import { balanceAdjusters, onCreditNoteIssued, onInvoiceIssued, pendingItemProviders } from '../billing/hooks.ts';
import { onClientTerminated } from '../customers/hooks.ts';
import { settleWithCreditNote } from './credit-notes.ts';
import { offsetDeposit } from './deposits.ts';
import { applyClientCredit, balanceAdjustment } from './ledger.ts';
import { pendingItemsOf } from './pending-items.ts';

export { recordPayment, recordPaymentIn, unallocatedPayments, type RecordPaymentOptions, type PaymentView } from './record-payment.ts';
export { allocatePayment, type AllocatePaymentOptions } from './allocate-payment.ts';
export { importBankStatement, bankFileProblem, type ImportSummary, type ImportedEntry } from './import-statement.ts';
export { runDunning, dunClient } from './run-dunning.ts';
export { dunningJob } from './jobs.ts';
export { clientCreditCents, openAmountCents, lateInterest, LATE_INTEREST_BASIS_POINTS } from './ledger.ts';
export { registerGuarantee, releaseGuarantee, coveredCents, type GuaranteeView } from './guarantees.ts';
export { suspendClient, reactivateClient, STAFF_SUSPENSION_CLAUSES } from './staff-suspension.ts';
export { depositOf, recordDepositMovement, offsetDeposit, type DepositView } from './deposits.ts';
export { clientAccount, receivablesAgeing, type ClientAccountView, type AgeingView } from './account-views.ts';
export * from './dunning-policy.ts';
export { dunningPolicyOf, setDunningPolicy } from './dunning-settings.ts';
export { paymentRoutes } from './routes.ts';

// Module load runs once: register into billing and customers.
pendingItemProviders.push(pendingItemsOf);
onInvoiceIssued.push(async (tx, invoice) => {
  await applyClientCredit(tx, invoice.id, invoice.clientId, invoice.at);
  // §5.3: the final invoice (RULES.md "Every termination") is offset by the deposit held.
  if (invoice.runKey.startsWith('final:')) await offsetDeposit(tx, invoice.clientId, invoice.at);
});
balanceAdjusters.push(balanceAdjustment);
onCreditNoteIssued.push(settleWithCreditNote);
onClientTerminated.push(async (tx, clientId, at) => {
  await offsetDeposit(tx, clientId, at);
});
