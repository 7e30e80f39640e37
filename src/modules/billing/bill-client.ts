/**
 * §8.1 the billing run for one client, in one transaction: recurring and pack lines in
 * advance through the last day of P+1 (§8.1.1/2), §8.5 increase regularisation for the
 * current month P, out-of-pack traffic per zone (§8.3), with quantities from the
 * configuration (§8.4, §8.6). Keyed by (client, `run:YYYY-MM`): a rerun skips it.
 */
import { and, eq, gte, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { addDays, firstOfMonth, lastOfMonth, localDate, type LocalDate } from '../../kernel/time.ts';
import { productVersionsOfCodes, versionOn } from '../catalog/product-queries.ts';
import { contractLineQuantities, contractLineQuantitiesOf, contractStatusOf, type ContractLineQuantity } from '../customers/contract-status.ts';
import { billingQuantities, type BillingQuantities } from '../provisioning/billing-quantities.ts';
import { countsForMonth } from '../provisioning/number-lifecycle.ts';
import { countUsersAtOf } from '../provisioning/user-store.ts';
import { billedThrough, monthSegments, segmentAmountCents } from './proration.ts';
import { collectPendingItems } from './hooks.ts';
import { issueInvoice, type NewInvoiceLine } from './issue-invoice.ts';
import { VAT_RATE } from './invoice-totals.ts';
import { invoiceLines, invoices } from './schema.ts';
import { collectTraffic, releaseTraffic } from './traffic-lines.ts';

export const runKeyOf = (runDate: LocalDate): string => `run:${runDate.slice(0, 7)}`;

/** §8.4 / §8.6: the quantity billed for the month starting `month` of a product of unit `unit`. */
export function quantityFor(unit: string | null, contractQuantity: number, q: BillingQuantities, month: LocalDate): number {
  switch (unit) {
    case 'user':
      return q.users;
    case 'national_number':
      return q.nationalNumbers;
    case 'international_number':
      return q.international.filter((n) => countsForMonth(n, month)).length;
    default:
      return contractQuantity;
  }
}

/**
 * Under the client's lock, in one statement: whether the run's invoice exists (a second
 * scheduler node, a rerun) and the last day of the recurring period already invoiced (null
 * when never).
 */
async function invoicedState(tx: Tx, clientId: string, runKey: string): Promise<{ exists: boolean; billedThrough: LocalDate | null }> {
  const [row] = await tx
    .select({
      exists: sql<boolean>`bool_or(${invoices.runKey} = ${runKey})`,
      // Dates as text (to_char): the mode 'string' mapping is not applied inside an aggregate.
      end: sql<string | null>`to_char(max(${invoices.periodEnd}), 'YYYY-MM-DD')`,
    })
    .from(invoices)
    .where(eq(invoices.clientId, clientId));
  return { exists: row?.exists === true, billedThrough: row?.end ?? null };
}

/**
 * What the run reads for a group of clients before their transactions (billing-run.ts,
 * `readRunFacts`), only what does not race with the client's transaction or is checked in
 * it: the lines of the contract then current (a contract's lines never change; the
 * transaction checks the contract is still the current one) and the users at the run
 * instant (a count at a past instant does not change).
 */
export interface RunFacts {
  contract: { contractId: string; lines: ContractLineQuantity[] } | undefined;
  usersAt: number;
}

/** `RunFacts` of a group of clients: four statements whatever the group's size. */
export async function readRunFacts(db: DbOrTx, clientIds: readonly string[], at: Date): Promise<Map<string, RunFacts>> {
  const contracts = await contractLineQuantitiesOf(db, clientIds);
  const users = await countUsersAtOf(db, clientIds, at);
  return new Map(clientIds.map((id) => [id, { contract: contracts.get(id), usersAt: users.get(id) ?? 0 }]));
}

/** Quantity already invoiced for a product and a month (recurring, prorata and regularisation lines). */
async function invoicedQuantity(tx: Tx, clientId: string, product: string, month: LocalDate): Promise<number> {
  const [row] = await tx
    .select({ q: sql<string>`coalesce(sum(${invoiceLines.quantity}), 0)` })
    .from(invoiceLines)
    .where(
      and(
        eq(invoiceLines.clientId, clientId),
        eq(invoiceLines.productCode, product),
        // Credit note lines correct amounts, not the quantities billed (§8.5 counts invoices only).
        isNull(invoiceLines.creditedLineId),
        inArray(invoiceLines.type, ['recurring', 'prorata', 'regularisation']),
        gte(invoiceLines.periodStart, month),
        lte(invoiceLines.periodStart, lastOfMonth(month)),
      ),
    );
  return Number(row?.q ?? 0);
}

/**
 * Bills one client at the run instant `at`; returns the invoice id, or null (nothing to bill,
 * not started, already billed). `facts`: what the run read for a group of clients beforehand
 * (`readRunFacts`); without them everything is read here (the preview, tests). Both give
 * the same invoice (billing-run.test.ts).
 */
export async function billClient(tx: Tx, clientId: string, at: Date, facts?: RunFacts): Promise<string | null> {
  const runDate = localDate(at);
  const runKey = runKeyOf(runDate);
  const status = await contractStatusOf(tx, clientId);
  const start = status.serviceStartDate;
  if (start === null || start > runDate || status.state === 'terminated' || !['active', 'indefinite', 'terminating'].includes(status.state)) return null;
  // Two scheduler nodes billing the same client: the second waits here, then finds the invoice and skips it.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`billing:${clientId}`}))`);
  const invoiced = await invoicedState(tx, clientId, runKey);
  if (invoiced.exists) return null;

  const quantities = await billingQuantities(tx, clientId, at, facts ? { usersAt: facts.usersAt } : {});
  // The lines read beforehand belong to the contract checked current above; another contract since: read again.
  const contractLines = facts?.contract?.contractId === status.contractId ? facts.contract.lines : await contractLineQuantities(tx, clientId);
  const products = contractLines.filter((l) => l.kind === 'recurring' || l.kind === 'pack');
  // §5.1 / §8.1: every catalogue price version of the products without an agreed price, in one statement.
  const versions = await productVersionsOfCodes(tx, [...new Set(products.filter((p) => p.priceCents === null).map((p) => p.productCode))]);
  const previous = invoiced.billedThrough;
  const from = previous === null ? start : addDays(previous, 1);
  const through = billedThrough(runDate, status.endDate);
  const monthP = firstOfMonth(runDate);
  const lines: NewInvoiceLine[] = [];

  for (const p of products) {
    const priceFor = (day: LocalDate): number => {
      if (p.priceCents !== null) return p.priceCents; // §5.1 the agreed price
      const v = versionOn(versions, p.productCode, day);
      if (!v) throw new Error(`§8.1: no price in force on ${day} for ${p.productCode}`);
      return v.priceCents;
    };
    // §8.5: an increase over what was invoiced for the current month P, at the full monthly price.
    if (previous !== null && previous >= lastOfMonth(monthP) && start <= lastOfMonth(monthP)) {
      const now = quantityFor(p.unit, p.quantity, quantities, monthP);
      const before = await invoicedQuantity(tx, clientId, p.productCode, monthP);
      if (now > before) {
        const monthly = priceFor(start > monthP ? start : monthP);
        lines.push({
          type: 'regularisation',
          productCode: p.productCode,
          zone: null,
          quantity: now - before,
          periodStart: monthP,
          periodEnd: lastOfMonth(monthP),
          amountCents: monthly * (now - before),
          vatRate: VAT_RATE,
          clause: '8.5',
        });
      }
    }
    // §8.1.1/2: in advance, month by month; the price version in force on the 1st (or the start date).
    for (const seg of monthSegments(from, through)) {
      const quantity = quantityFor(p.unit, p.quantity, quantities, seg.month);
      if (quantity === 0) continue;
      const monthly = priceFor(seg.start);
      lines.push({
        type: seg.whole ? 'recurring' : 'prorata',
        productCode: p.productCode,
        zone: null,
        quantity,
        periodStart: seg.start,
        periodEnd: seg.end,
        amountCents: segmentAmountCents(monthly, quantity, seg),
        vatRate: VAT_RATE,
        clause: '8.1',
      });
    }
  }

  // §8.1.3 / §8.3: out-of-pack traffic, one line per zone, calls started before the run instant.
  const traffic = await collectTraffic(tx, clientId, at, newId(at));
  lines.push(...traffic.lines);
  // §8.1 point 5: pending items — late interest (§5.2), reminder fees (§8.8), vatRate 0.
  const pending = await collectPendingItems(tx, clientId, at);
  lines.push(...pending.lines);

  const billsRecurring = lines.some((l) => l.type === 'recurring' || l.type === 'prorata');
  const id = await issueInvoice(tx, {
    id: traffic.invoiceId,
    clientId,
    runKey,
    at,
    lines,
    periodStart: billsRecurring ? from : null,
    periodEnd: billsRecurring ? through : null,
    clause: '8.1',
    runKeyChecked: true, // under the lock above
  });
  if (id !== null) await pending.markBilled(tx, id);
  else await releaseTraffic(tx, clientId, traffic);
  return id;
}
