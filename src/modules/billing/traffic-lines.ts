/**
 * §8.1.3 / §8.3 out-of-pack traffic (RULES.md "Traffic lines"): every rated call started
 * before `before` and not yet invoiced, one line per zone with quantity = number of priced
 * calls and amount = sum of their costs; a zone whose sum is 0 gets no line. Calls
 * recorded but not yet rated (the SIP router only writes CDRs) are rated first.
 */
import { and, asc, eq, inArray, isNotNull, isNull, lt } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { sumCents } from '../../kernel/money.ts';
import { firstOfMonth, localDate } from '../../kernel/time.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { rateClientMonth } from '../rating/rate-client-month.ts';
import type { NewInvoiceLine } from './issue-invoice.ts';
import { VAT_RATE } from './invoice-totals.ts';

export interface Traffic {
  lines: NewInvoiceLine[];
  /** Every call the invoice settles (zero-cost ones included), to mark with the invoice id. */
  callIds: string[];
}

export async function collectTraffic(tx: DbOrTx, clientId: string, before: Date): Promise<Traffic> {
  const unrated = await tx
    .select({ startedAt: cdrs.startedAt })
    .from(cdrs)
    .where(and(eq(cdrs.clientId, clientId), isNull(cdrs.invoiceId), isNull(cdrs.ratedAt), lt(cdrs.startedAt, before)));
  for (const month of new Set(unrated.map((c) => firstOfMonth(localDate(c.startedAt))))) await rateClientMonth(tx, clientId, month, before);
  const calls = await tx
    .select({ id: cdrs.id, zone: cdrs.zone, costCents: cdrs.costCents })
    .from(cdrs)
    .where(and(eq(cdrs.clientId, clientId), isNull(cdrs.invoiceId), isNotNull(cdrs.ratedAt), lt(cdrs.startedAt, before)))
    .orderBy(asc(cdrs.startedAt), asc(cdrs.id));
  const byZone = new Map<string, number[]>();
  for (const c of calls) {
    if (c.zone === null || c.costCents === null || c.costCents <= 0) continue;
    const list = byZone.get(c.zone) ?? [];
    list.push(c.costCents);
    byZone.set(c.zone, list);
  }
  const lines: NewInvoiceLine[] = [];
  for (const zone of [...byZone.keys()].sort()) {
    const costs = byZone.get(zone)!;
    const amount = sumCents(costs);
    if (amount === 0) continue;
    lines.push({ type: 'traffic', productCode: null, zone, quantity: costs.length, periodStart: null, periodEnd: null, amountCents: amount, vatRate: VAT_RATE, clause: '8.3' });
  }
  return { lines, callIds: calls.map((c) => c.id) };
}

/** Marks the settled calls as invoiced by `invoiceId`. */
export async function markTrafficInvoiced(tx: DbOrTx, traffic: Traffic, invoiceId: string): Promise<void> {
  if (traffic.callIds.length === 0) return;
  await tx.update(cdrs).set({ invoiceId }).where(inArray(cdrs.id, traffic.callIds));
}
