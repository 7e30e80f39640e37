/**
 * Hooks other modules register into, so that billing never imports them (payments does):
 *
 * - `pendingItemProviders`: §8.1 point 5 pending items (late interest §5.2, reminder fees
 *   §8.8) added to the run (and final) invoice; `markBilled` is called with the invoice id
 *   in the same transaction.
 * - `onInvoiceIssued`: called inside the issuing transaction (client credit is applied
 *   to the new invoice, RULES.md "Client credit").
 * - `balanceAdjusters`: cents to subtract from the open invoice totals (amounts already
 *   allocated to open invoices, unallocated client credit) — RULES.md "balanceCents".
 */
import type { DbOrTx } from '../../db/client.ts';
import type { NewInvoiceLine } from './issue-invoice.ts';

export interface PendingItems {
  lines: NewInvoiceLine[];
  markBilled(tx: DbOrTx, invoiceId: string): Promise<void>;
}

export type PendingItemsProvider = (tx: DbOrTx, clientId: string, at: Date) => Promise<PendingItems>;
export interface IssuedInvoice {
  id: string;
  clientId: string;
  number: string;
  /** The invoice's run key (`run:YYYY-MM`, `final:<contract>`, `installation:<contract>`…). */
  runKey: string;
  totalInclVatCents: number;
  at: Date;
}
export type InvoiceIssuedHook = (tx: DbOrTx, invoice: IssuedInvoice) => Promise<void>;
export type BalanceAdjuster = (db: DbOrTx, clientId: string) => Promise<number>;

export const pendingItemProviders: PendingItemsProvider[] = [];
export const onInvoiceIssued: InvoiceIssuedHook[] = [];
export const balanceAdjusters: BalanceAdjuster[] = [];

/** Every provider's pending lines, and one callback marking them all billed. */
export async function collectPendingItems(tx: DbOrTx, clientId: string, at: Date): Promise<PendingItems> {
  const all: PendingItems[] = [];
  for (const p of pendingItemProviders) all.push(await p(tx, clientId, at));
  return {
    lines: all.flatMap((p) => p.lines),
    async markBilled(t, invoiceId) {
      for (const p of all) await p.markBilled(t, invoiceId);
    },
  };
}

/**
 * `onCreditNoteIssued`: called inside the transaction that issues a credit note (§8
 * "corrections are credit notes"). The credit note is stored with kind `credit_note`,
 * positive totals and status `open` (= its credit not yet used): `balanceCents` subtracts
 * open credit notes. A module that takes the credit over (payments: allocate it to the
 * credited invoice's open amount so dunning stops on it, the rest as client credit) must
 * then set the credit note's status to `paid`, so that it is not subtracted twice.
 */
export interface IssuedCreditNote {
  id: string;
  clientId: string;
  number: string;
  creditedInvoiceId: string;
  totalInclVatCents: number;
  at: Date;
}
export type CreditNoteIssuedHook = (tx: DbOrTx, creditNote: IssuedCreditNote) => Promise<void>;
export const onCreditNoteIssued: CreditNoteIssuedHook[] = [];
