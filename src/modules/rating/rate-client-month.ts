/**
 * §8.3 rating of one client's calls of one calendar month (local), in call start order,
 * with the month's pack allowances. Idempotent: rerating gives the same result and writes
 * only the calls whose rating changes (new calls, a late call's effect on the pack); calls
 * already invoiced keep their rating (an issued invoice never changes) but still consume
 * their pack seconds.
 */
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { addMonths, firstOfMonth, localDate, startOfLocalDay, type LocalDate } from '../../kernel/time.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { zoneFor } from '../catalog/product-queries.ts';
import { productVersions, products } from '../catalog/schema.ts';
import { currentContracts } from '../customers/contract-store.ts';
import { contractLines } from '../customers/schema.ts';
import { rateCalls, type PackPool, type RatableCall } from './call-rating.ts';
import { packAllowanceSeconds } from './pack-allowance.ts';
import { mergedPools, rateMonthSql, tariffPeriodsOf } from './rate-set.ts';

/** The pack pools of the client for the month of `month` (§8.3), in product code order. */
export async function packPoolsOf(db: DbOrTx, clientId: string, month: LocalDate): Promise<PackPool[]> {
  return (await packPoolsOfClients(db, [clientId], month)).get(clientId) ?? [];
}

/**
 * The pack pools (§8.3) of each client for the month of `month`, in product code order,
 * read by three statements for all the clients: the current contract of each
 * (`currentContracts`), its pack lines, the pack's version in force on the
 * first day of the month or on the service start when later (§8.2).
 */
export async function packPoolsOfClients(db: DbOrTx, clientIds: readonly string[], month: LocalDate): Promise<Map<string, PackPool[]>> {
  const first = firstOfMonth(month);
  const pools = new Map<string, PackPool[]>(clientIds.map((id) => [id, []]));
  if (clientIds.length === 0) return pools;
  const current = await currentContracts(db, clientIds);
  // No pack before the service starts; a draft has no lines in force.
  const started = new Map(current.filter((c) => c.serviceStartDate !== null && c.state !== 'draft').map((c) => [c.id, c]));
  if (started.size === 0) return pools;
  const lines = await db
    .select({ contractId: contractLines.contractId, productCode: contractLines.productCode, quantity: contractLines.quantity })
    .from(contractLines)
    .innerJoin(products, eq(products.code, contractLines.productCode))
    .where(and(inArray(contractLines.contractId, [...started.keys()]), eq(products.kind, 'pack'), gt(contractLines.quantity, 0)))
    .orderBy(asc(contractLines.id));
  if (lines.length === 0) return pools;
  const versions = await db
    .select({ productCode: productVersions.productCode, effective: productVersions.effective, minutes: productVersions.packMinutes, zones: productVersions.packZones })
    .from(productVersions)
    .where(inArray(productVersions.productCode, [...new Set(lines.map((l) => l.productCode))]))
    .orderBy(desc(productVersions.effective), desc(productVersions.id));
  lines.sort((a, b) => (a.productCode < b.productCode ? -1 : a.productCode > b.productCode ? 1 : 0));
  for (const l of lines) {
    const c = started.get(l.contractId)!;
    const start = c.serviceStartDate!;
    const on = start > first ? start : first;
    // As `priceOn`: the latest effective ≤ the date, the last recorded on a tie.
    const version = versions.find((v) => v.productCode === l.productCode && v.effective <= on);
    if (!version?.minutes || !version.zones) continue;
    pools.get(c.clientId)!.push({
      product: l.productCode,
      zones: version.zones,
      seconds: packAllowanceSeconds({ minutes: version.minutes, quantity: l.quantity, month: first, serviceStart: start, endDate: c.endDate }),
    });
  }
  return pools;
}

/** A call is priced when it went out to a number (not emergency, not internal) and was allowed. */
const zoned = (c: typeof cdrs.$inferSelect): boolean => c.direction === 'outbound' && !c.emergency && c.destination.startsWith('+');

/**
 * Rates every finished call of the client that started in the local month of `month`;
 * returns how many were written (a call already rated as computed is not rewritten). A call still in progress (`ended_at` null, the SIP
 * router opens its CDR at the INVITE) is left unrated until it ends.
 */
export async function rateClientMonth(db: DbOrTx, clientId: string, month: LocalDate, at: Date): Promise<number> {
  return rateClientsMonth(db, [clientId], month, at);
}

/**
 * §8.3 rating of many clients' month at once, set-based (rate-set.ts): one statement for
 * every client whose pack pools are disjoint or equal, the in-memory path for the others.
 * Same results as `rateClientMonthInMemory` client by client.
 */
export async function rateClientsMonth(db: DbOrTx, clientIds: readonly string[], month: LocalDate, at: Date): Promise<number> {
  return rateClientsMonthWithPools(db, await packPoolsOfClients(db, clientIds, firstOfMonth(month)), month, at);
}

/**
 * `rateClientsMonth` with the pack pools (§8.3) of the month given: every client of
 * `poolsOf` is rated (an empty list: no pack).
 */
export async function rateClientsMonthWithPools(db: DbOrTx, poolsOf: ReadonlyMap<string, readonly PackPool[]>, month: LocalDate, at: Date): Promise<number> {
  const first = firstOfMonth(month);
  const setBased: { clientId: string; pools: { zones: string[]; seconds: number }[] }[] = [];
  let rated = 0;
  for (const [clientId, raw] of poolsOf) {
    const pools = mergedPools(raw);
    if (pools === null) rated += await rateClientMonthInMemory(db, clientId, first, at, raw);
    else setBased.push({ clientId, pools });
  }
  if (setBased.length > 0) rated += await rateMonthSql(db, setBased, first, await tariffPeriodsOf(db, first), at);
  return rated;
}

/**
 * The reference rating of one client-month: CDRs read, `rateCalls` in memory, written back
 * (overlapping pack pools). `pools`: the client's pools of the month (read when not given).
 */
export async function rateClientMonthInMemory(db: DbOrTx, clientId: string, month: LocalDate, at: Date, pools?: readonly PackPool[]): Promise<number> {
  const first = firstOfMonth(month);
  const rows = await db
    .select()
    .from(cdrs)
    .where(
      and(
        eq(cdrs.clientId, clientId),
        gte(cdrs.startedAt, startOfLocalDay(first)),
        lt(cdrs.startedAt, startOfLocalDay(addMonths(first, 1))),
        isNotNull(cdrs.endedAt),
      ),
    )
    .orderBy(asc(cdrs.startedAt), asc(cdrs.id));
  const calls: RatableCall[] = [];
  const zones = new Map<string, string | null>();
  // The tariff in force depends on the local date only: one lookup per (date, destination).
  const lookups = new Map<string, { zone: string; perMinuteMicros: number } | null>();
  for (const c of rows) {
    let z: { zone: string; perMinuteMicros: number } | null = null;
    if (zoned(c)) {
      const key = `${localDate(c.startedAt)}|${c.destination}`;
      if (!lookups.has(key)) lookups.set(key, await zoneFor(db, c.destination, c.startedAt));
      z = lookups.get(key) ?? null;
    }
    zones.set(c.id, z?.zone ?? null);
    const fixed = c.invoiceId !== null && c.ratedAt !== null ? { packSeconds: c.packSeconds ?? 0, costCents: c.costCents ?? 0 } : undefined;
    calls.push({
      id: c.id,
      zone: c.allowed ? (z?.zone ?? null) : null,
      perMinuteMicros: z?.perMinuteMicros ?? 0,
      billableSeconds: c.allowed ? c.billableSeconds : 0,
      ...(fixed ? { fixed } : {}),
    });
  }
  const rated = rateCalls(calls, pools ?? (await packPoolsOf(db, clientId, first)));
  // Written: the calls not invoiced whose rating is not already the one computed (as rate-set.ts).
  const changed = rated.filter((r, i) => {
    const row = rows[i]!;
    return !calls[i]!.fixed && (row.ratedAt === null || row.zone !== (zones.get(r.id) ?? null) || row.packSeconds !== r.packSeconds || row.costCents !== r.costCents);
  });
  // One UPDATE … FROM (VALUES …) per 500 calls instead of one statement per call.
  for (let i = 0; i < changed.length; i += 500) {
    const values = sql.join(
      changed.slice(i, i + 500).map((r) => sql`(${r.id}::uuid, ${zones.get(r.id) ?? null}::text, ${r.packSeconds}::integer, ${r.costCents}::integer)`),
      sql`, `,
    );
    await db.execute(
      sql`update ${cdrs} set rated_at = ${at.toISOString()}::timestamptz, zone = v.zone, pack_seconds = v.pack_seconds, cost_cents = v.cost_cents from (values ${values}) as v(id, zone, pack_seconds, cost_cents) where ${cdrs.id} = v.id`,
    );
  }
  return changed.length;
}

/** Rates the month of one call (the call and every other call of that client-month). */
export async function rateCdr(db: DbOrTx, cdrId: string, at: Date): Promise<void> {
  const [c] = await db.select({ clientId: cdrs.clientId, startedAt: cdrs.startedAt }).from(cdrs).where(eq(cdrs.id, cdrId));
  if (!c) return;
  await rateClientMonth(db, c.clientId, localDate(c.startedAt), at);
}
