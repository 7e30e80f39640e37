/**
 * §8.1.3 / §8.3 out-of-pack traffic (RULES.md "Traffic lines"): every rated call started
 * before `before` and not yet invoiced, one line per zone with quantity = number of priced
 * calls and amount = sum of their costs; a zone whose sum is 0 gets no line. Calls
 * recorded but not yet rated (the SIP router only writes CDRs) are rated first.
 *
 * One statement marks the calls with the invoice id to be issued and sums them per zone
 * (UPDATE … RETURNING, grouped): the calls counted are exactly the calls marked. When no
 * invoice is issued after all (no line), `releaseTraffic` takes the mark back in the same
 * transaction.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { addMonths, firstOfMonth, localDate } from '../../kernel/time.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { rateClientMonth } from '../rating/rate-client-month.ts';
import type { NewInvoiceLine } from './issue-invoice.ts';
import { VAT_RATE } from './invoice-totals.ts';

export interface Traffic {
  lines: NewInvoiceLine[];
  /** The invoice id every settled call (zero-cost ones included) was marked with. */
  invoiceId: string;
  /** How many calls were marked. */
  calls: number;
}

/** An aggregate of a timestamptz column: a Date (node-postgres, PGlite) or its text, null on no rows. */
const instantOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(v as string));

/** The client's calls started before `before`, not invoiced, rated (`rated`) or not. */
const uninvoiced = (clientId: string, before: Date, rated: boolean): SQL =>
  sql`client_id = ${clientId}::uuid and invoice_id is null and rated_at is ${sql.raw(rated ? 'not null' : 'null')} and started_at < ${before.toISOString()}::timestamptz`;

/**
 * Marks the client's rated, uninvoiced calls started before `before` with `invoiceId`
 * and sums them per zone. `ifAllRated`: in the same statement, only when no such call is
 * still unrated, whose span (first and last start) it returns instead — the usual case
 * (every call already rated) costs one statement, reading the client's pages once.
 */
async function markTraffic(tx: DbOrTx, clientId: string, before: Date, invoiceId: string, ifAllRated: boolean) {
  const result = await tx.execute(sql`
    with unrated as (
      select min(started_at) as first, max(started_at) as last from ${cdrs} where ${ifAllRated ? uninvoiced(clientId, before, false) : sql`false`}
    ), marked as (
      update ${cdrs} set invoice_id = ${invoiceId}::uuid
      where ${uninvoiced(clientId, before, true)} and (select first from unrated) is null
      returning zone, cost_cents
    )
    select u.first, u.last, g.zone, g.priced, g.cents, g.calls from unrated u left join (
      select zone, count(*) filter (where zone is not null and cost_cents > 0)::integer as priced,
        coalesce(sum(cost_cents) filter (where zone is not null and cost_cents > 0), 0)::text as cents, count(*)::integer as calls
      from marked group by zone) g on true`);
  const rows = (result as { rows: { first: unknown; last: unknown; zone: string | null; priced: number | null; cents: string | null; calls: number | null }[] }).rows;
  const first = instantOrNull(rows[0]?.first);
  const last = instantOrNull(rows[0]?.last);
  const zones = rows.filter((r) => r.calls !== null).map((r) => ({ zone: r.zone, priced: r.priced ?? 0, cents: r.cents ?? '0', calls: r.calls ?? 0 }));
  return { unrated: first && last ? { first, last } : null, zones };
}

/** Rates what is unrated, then marks the client's rated, uninvoiced calls started before `before` with `invoiceId` and returns the zone lines. */
export async function collectTraffic(tx: DbOrTx, clientId: string, before: Date, invoiceId: string): Promise<Traffic> {
  let marked = await markTraffic(tx, clientId, before, invoiceId, true);
  if (marked.unrated) {
    // Nothing was marked: the months with unrated calls, from the first to the last (rerating a month between is idempotent), then the marking.
    const last = firstOfMonth(localDate(marked.unrated.last));
    for (let month = firstOfMonth(localDate(marked.unrated.first)); month <= last; month = addMonths(month, 1)) await rateClientMonth(tx, clientId, month, before);
    marked = await markTraffic(tx, clientId, before, invoiceId, false);
  }
  const rows = marked.zones;
  const lines: NewInvoiceLine[] = [];
  for (const r of [...rows].sort((a, b) => ((a.zone ?? '') < (b.zone ?? '') ? -1 : (a.zone ?? '') > (b.zone ?? '') ? 1 : 0))) {
    const amount = Number(r.cents);
    if (!Number.isSafeInteger(amount)) throw new RangeError(`§8.3: traffic of zone ${r.zone ?? ''} exceeds the safe integer range (${r.cents} cents)`);
    if (r.zone === null || amount === 0) continue;
    lines.push({ type: 'traffic', productCode: null, zone: r.zone, quantity: r.priced, periodStart: null, periodEnd: null, amountCents: amount, vatRate: VAT_RATE, clause: '8.3' });
  }
  return { lines, invoiceId, calls: rows.reduce((n, r) => n + r.calls, 0) };
}

/** No invoice was issued with `traffic.invoiceId`: its calls are uninvoiced again (same transaction). */
export async function releaseTraffic(tx: DbOrTx, clientId: string, traffic: Traffic): Promise<void> {
  if (traffic.calls === 0) return;
  await tx
    .update(cdrs)
    .set({ invoiceId: null })
    .where(and(eq(cdrs.clientId, clientId), eq(cdrs.invoiceId, traffic.invoiceId)));
}
