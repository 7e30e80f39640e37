/**
 * RULES.md "Every termination": at the instant service stops, a final invoice is issued
 * at once with every item not yet invoiced — registered into customers'
 * `onClientTerminated`, in the terminating transaction: out-of-pack traffic (§8.3),
 * pending items (late interest §5.2, reminder fees §8.8, and whatever else providers
 * register), and the §11.2 / §13.2 termination fee where one is due (VAT 21 %, the clause
 * on the line). No lines → no invoice.
 */
import { and, desc, eq, inArray, isNotNull, isNull } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { sumCents } from '../../kernel/money.ts';
import { formatEuros } from '../../kernel/money.ts';
import { products } from '../catalog/schema.ts';
import { currentContract } from '../customers/contract-store.ts';
import { collectPendingItems } from './hooks.ts';
import { issueInvoice, type NewInvoiceLine } from './issue-invoice.ts';
import { VAT_RATE } from './invoice-totals.ts';
import { invoiceLines, invoices } from './schema.ts';
import { terminationFee } from './termination-fee.ts';
import { collectTraffic, releaseTraffic } from './traffic-lines.ts';

/** The last day invoiced by a billing run (the latest invoice period end); null when never. */
async function lastBilledThrough(tx: Tx, clientId: string): Promise<string | null> {
  const [row] = await tx
    .select({ end: invoices.periodEnd })
    .from(invoices)
    .where(and(eq(invoices.clientId, clientId), eq(invoices.kind, 'invoice'), isNotNull(invoices.periodEnd)))
    .orderBy(desc(invoices.periodEnd))
    .limit(1);
  return row?.end ?? null;
}

/**
 * §11.2: "the monthly recurring amount of the last invoice (excluding traffic and national
 * numbers)": the whole-month recurring lines (products and packs) of the latest month
 * invoiced, national-number products left out.
 */
export async function lastMonthlyRecurringCents(tx: Tx, clientId: string): Promise<number> {
  const [latest] = await tx
    .select({ month: invoiceLines.periodStart })
    .from(invoiceLines)
    .innerJoin(invoices, eq(invoices.id, invoiceLines.invoiceId))
    .where(and(eq(invoiceLines.clientId, clientId), eq(invoices.kind, 'invoice'), eq(invoiceLines.type, 'recurring'), isNull(invoiceLines.creditedLineId)))
    .orderBy(desc(invoiceLines.periodStart))
    .limit(1);
  if (!latest?.month) return 0;
  const lines = await tx
    .select({ product: invoiceLines.productCode, amount: invoiceLines.amountCents })
    .from(invoiceLines)
    .innerJoin(invoices, eq(invoices.id, invoiceLines.invoiceId))
    .where(and(eq(invoiceLines.clientId, clientId), eq(invoices.kind, 'invoice'), eq(invoiceLines.type, 'recurring'), eq(invoiceLines.periodStart, latest.month)));
  const codes = [...new Set(lines.map((l) => l.product).filter((c): c is string => c !== null))];
  const national = new Set(
    codes.length === 0
      ? []
      : (await tx.select({ code: products.code }).from(products).where(and(inArray(products.code, codes), eq(products.unit, 'national_number')))).map((p) => p.code),
  );
  return sumCents(lines.filter((l) => l.product === null || !national.has(l.product)).map((l) => l.amount));
}

/** The §11.2 / §13.2 fee line of the terminated contract, or null when none is due. */
export async function terminationFeeLine(tx: Tx, clientId: string): Promise<NewInvoiceLine | null> {
  const c = await currentContract(tx, clientId);
  if (!c || c.state !== 'terminated') return null;
  const monthly = await lastMonthlyRecurringCents(tx, clientId);
  const fee = terminationFee({
    ground: c.terminationGround,
    by: c.terminatedBy,
    serviceStartDate: c.serviceStartDate,
    minimumTermEnd: c.minimumTermEnd,
    lastBilledThrough: await lastBilledThrough(tx, clientId),
    monthlyCents: monthly,
  });
  if (fee === null) return null;
  const months = [String(fee.wholeMonths), ...fee.partial].join(' + ');
  return {
    type: 'termination_fee',
    productCode: null,
    zone: null,
    quantity: 1,
    periodStart: fee.from,
    periodEnd: fee.through,
    amountCents: fee.cents,
    vatRate: VAT_RATE,
    clause: fee.clause,
    description: `Indemnité de résiliation anticipée (§${fee.clause}) — ${months} mois × ${formatEuros(monthly)} € jusqu'au ${fee.through}`,
  };
}

export async function invoiceFinal(tx: Tx, clientId: string, at: Date): Promise<string | null> {
  const c = await currentContract(tx, clientId);
  const traffic = await collectTraffic(tx, clientId, at, newId(at));
  const pending = await collectPendingItems(tx, clientId, at);
  const fee = await terminationFeeLine(tx, clientId);
  const lines = [...traffic.lines, ...pending.lines, ...(fee ? [fee] : [])];
  const id = await issueInvoice(tx, { id: traffic.invoiceId, clientId, runKey: `final:${c?.id ?? ''}`, at, lines, clause: fee?.clause ?? '13.1' });
  if (id !== null) await pending.markBilled(tx, id);
  else await releaseTraffic(tx, clientId, traffic);
  return id;
}
