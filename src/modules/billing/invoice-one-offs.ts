/**
 * §8.1: one-offs (`hardware`, `one_off`) are invoiced at installation — registered into
 * customers' `onInstallationComplete`, in the transaction that records the installation.
 * Quantity from the contract line; the agreed price, else the catalogue price in force
 * on the installation day.
 */
import type { Tx } from '../../db/client.ts';
import { localDate } from '../../kernel/time.ts';
import { priceOn } from '../catalog/product-queries.ts';
import { contractLineQuantities, contractStatusOf } from '../customers/contract-status.ts';
import { issueInvoice, type NewInvoiceLine } from './issue-invoice.ts';
import { VAT_RATE } from './invoice-totals.ts';

export async function invoiceOneOffs(tx: Tx, clientId: string, at: Date): Promise<string | null> {
  const day = localDate(at);
  const status = await contractStatusOf(tx, clientId);
  const lines: NewInvoiceLine[] = [];
  for (const l of await contractLineQuantities(tx, clientId)) {
    if ((l.kind !== 'hardware' && l.kind !== 'one_off') || l.quantity <= 0) continue;
    const unit = l.priceCents ?? (await priceOn(tx, l.productCode, day))?.priceCents;
    if (unit === undefined) throw new Error(`§8.1: no price in force on ${day} for ${l.productCode}`);
    lines.push({
      type: 'one_off',
      productCode: l.productCode,
      zone: null,
      quantity: l.quantity,
      periodStart: null,
      periodEnd: null,
      amountCents: unit * l.quantity,
      vatRate: VAT_RATE,
      clause: '8.1',
    });
  }
  return issueInvoice(tx, { clientId, runKey: `installation:${status.contractId ?? ''}`, at, lines, clause: '8.1' });
}
