/**
 * §8.3 set-based rating: the calls of many clients of one calendar month (local) rated by
 * ONE SQL statement, with the same results as `rateCalls` (call-rating.ts):
 * - the zone is the longest E.164 prefix of the tariff version in force on the local day
 *   the call started (§8.2/§8.3; on a tie of equal prefixes the first zone in code order
 *   wins, as `longestPrefixMatch` over `tariffOn`), looked up once per (period, destination)
 *   (a lateral lookup the planner memoizes), and the call's pack pool once per (client, zone);
 * - pack seconds by a window function: with the allowance A of the call's pool and S the
 *   running sum of seconds wanted by the pool's calls in start order (start, id), the pool
 *   left after a call is max(0, A − S), so the call takes max(0, A − S_before) − max(0, A − S)
 *   (greedy consumption, no roll-over). Invoiced calls keep their rating and still
 *   consume their recorded pack seconds. The window is partitioned by client only, with
 *   one running sum per pool index (a client's pools are disjoint), so the calls read
 *   from `cdrs_client_started_idx` are already in its order: no sort of the batch (a
 *   sort of every call of the batch cost ≈ 25 % of the statement);
 * - cost = ceil((seconds − pack seconds) × µ€/min ÷ 600 000) in bigint integer arithmetic;
 * - each row is written back by its `ctid` (the version the statement read): a call that
 *   another transaction changed meanwhile (rated, or invoiced, by it) keeps what that
 *   transaction wrote. The rating columns are in no index and `cdrs` keeps free space on
 *   its pages (cdr-schema.ts), so the new versions are HOT (same page, no index entry);
 * - a call whose rating is already the one computed is not written (it keeps its
 *   `rated_at`): rating a month again only writes its new calls and those whose pack
 *   share changed (a late call), so a rerun dirties no page and writes no WAL for the rest.
 * A client whose pack pools overlap without being equal (a zone in two different zone
 * sets) is rated by the in-memory path instead (rate-client-month.ts): one pool per call
 * is what the window function needs.
 */
import { lte, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { addDays, addMonths, daysInMonth, firstOfMonth, startOfLocalDay, type LocalDate } from '../../kernel/time.ts';
import { tariffVersions } from '../catalog/schema.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import type { PackPool } from './call-rating.ts';

/** A run of consecutive local days of the month with the same tariff in force (§8.2). */
export interface TariffPeriod {
  from: Date;
  to: Date;
  /** prefix → the zone it selects (first zone in code order for a prefix in two zones). */
  prefixes: Map<string, { zone: string; perMinuteMicros: number }>;
}

/** The tariff periods of the month of `month`: one query, then the version in force day by day (as `tariffOn`). */
export async function tariffPeriodsOf(db: DbOrTx, month: LocalDate): Promise<TariffPeriod[]> {
  const first = firstOfMonth(month);
  const days = daysInMonth(first);
  const rows = await db
    .select()
    .from(tariffVersions)
    .where(lte(tariffVersions.effective, addDays(first, days - 1)));
  const periods: TariffPeriod[] = [];
  let previousKey = '';
  for (let d = 0; d < days; d++) {
    const day = addDays(first, d);
    const inForce = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      if (r.effective > day) continue;
      const cur = inForce.get(r.zone);
      if (!cur || r.effective > cur.effective || (r.effective === cur.effective && r.id > cur.id)) inForce.set(r.zone, r);
    }
    const versions = [...inForce.values()].sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
    const key = versions.map((v) => v.id).join(',');
    const to = startOfLocalDay(addDays(day, 1));
    if (key === previousKey && periods.length > 0) {
      periods[periods.length - 1]!.to = to;
      continue;
    }
    previousKey = key;
    const prefixes = new Map<string, { zone: string; perMinuteMicros: number }>();
    for (const v of versions) for (const p of v.prefixes) if (!prefixes.has(p)) prefixes.set(p, { zone: v.zone, perMinuteMicros: v.perMinuteMicros });
    periods.push({ from: startOfLocalDay(day), to, prefixes });
  }
  return periods;
}

/**
 * The pools of a client merged by zone set (pools with the same zones, consumed one after
 * the other, give the same seconds per call as one pool of their sum); null when two
 * different zone sets share a zone (the window function needs one pool per call).
 */
export function mergedPools(pools: readonly PackPool[]): { zones: string[]; seconds: number }[] | null {
  const byKey = new Map<string, { zones: string[]; seconds: number }>();
  const owner = new Map<string, string>();
  for (const p of pools) {
    const zones = [...new Set(p.zones)].sort();
    const key = zones.join('\u0000');
    for (const z of zones) {
      if (owner.has(z) && owner.get(z) !== key) return null;
      owner.set(z, key);
    }
    const merged = byKey.get(key) ?? { zones, seconds: 0 };
    merged.seconds += Math.max(0, p.seconds);
    byKey.set(key, merged);
  }
  return [...byKey.values()];
}

const ts = (d: Date): SQL => sql`${d.toISOString()}::timestamptz`;

/**
 * The CTEs `t(period, prefix, zone, micros)` (the prefixes of each tariff period) and
 * `pr(period, from_ts, to_ts)` (the periods) of the month of `first`, as VALUES.
 */
export function tariffCtes(periods: readonly TariffPeriod[], first: LocalDate): SQL {
  const tariffRows: SQL[] = [];
  const periodRows: SQL[] = [];
  periods.forEach((p, i) => {
    periodRows.push(sql`(${i}::integer, ${ts(p.from)}, ${ts(p.to)})`);
    for (const [prefix, z] of p.prefixes) tariffRows.push(sql`(${i}::integer, ${prefix}::text, ${z.zone}::text, ${z.perMinuteMicros}::bigint)`);
  });
  // A month without any tariff in force: no zone matches (every call costs 0).
  if (tariffRows.length === 0) tariffRows.push(sql`(-1, null::text, null::text, 0::bigint)`);
  if (periodRows.length === 0) periodRows.push(sql`(-1, ${ts(startOfLocalDay(first))}, ${ts(startOfLocalDay(first))})`);
  return sql`t(period, prefix, zone, micros) as (values ${sql.join(tariffRows, sql`, `)}),
    pr(period, from_ts, to_ts) as (values ${sql.join(periodRows, sql`, `)})`;
}

/** The cost of a call in cents (§8.3): ceil((seconds − pack) × µ€/min ÷ 600 000), exact in bigint. */
export const costCents = (zone: SQL, secs: SQL, pack: SQL, micros: SQL): SQL =>
  sql`case when ${zone} is null or ${secs} <= 0 then 0 else ((${secs} - ${pack}) * ${micros} + 599999) / 600000 end::integer`;

/**
 * Settings of the rating statement: sorts in memory; no JIT (its compile time is not repaid
 * by one statement); no sequential nor bitmap scan, so that the calls are read through
 * `cdrs_client_started_idx` in (client, start) order — the window's own order, which then
 * only needs an incremental sort on the call id within equal starts instead of a sort of
 * every call of the batch — and so that the rows rated are updated through their `ctid` (a
 * TID scan per row) instead of hashing the whole table; no merge join (it would sort the
 * calls again).
 */
const RATING_SETTINGS: Readonly<Record<string, string>> = { work_mem: '64MB', jit: 'off', enable_seqscan: 'off', enable_bitmapscan: 'off', enable_mergejoin: 'off' };

/**
 * Runs `fn` in a transaction (a savepoint when `db` is already one) with `settings`, set
 * LOCAL and restored afterwards: a SET LOCAL would otherwise last until the end of the
 * caller's transaction (the billing run rates inside its own).
 */
export async function withSettings<T>(db: DbOrTx, settings: Readonly<Record<string, string>>, fn: (tx: DbOrTx) => Promise<T>): Promise<T> {
  const names = Object.keys(settings);
  const setAll = (values: readonly string[]): SQL =>
    sql`select ${sql.join(
      names.map((n, i) => sql`set_config(${n}, ${values[i]}, true)`),
      sql`, `,
    )}`;
  return db.transaction(async (tx) => {
    const read = await tx.execute(sql`select ${sql.join(
      names.map((n, i) => sql`current_setting(${n}) as ${sql.raw(`s${i}`)}`),
      sql`, `,
    )}`);
    const row = (read as { rows: Record<string, string>[] }).rows[0]!;
    const before = names.map((_, i) => row[`s${i}`]!);
    await tx.execute(setAll(names.map((n) => settings[n]!)));
    const result = await fn(tx);
    await tx.execute(setAll(before));
    return result;
  });
}

/**
 * Rates, in one statement, every finished call started in the month of `month` of the
 * clients given with their merged pools; returns how many calls were written (unrated
 * before, or rated otherwise).
 */
export async function rateMonthSql(
  db: DbOrTx,
  clients: readonly { clientId: string; pools: readonly { zones: readonly string[]; seconds: number }[] }[],
  month: LocalDate,
  periods: readonly TariffPeriod[],
  at: Date,
): Promise<number> {
  if (clients.length === 0) return 0;
  const first = firstOfMonth(month);
  const poolRows: SQL[] = [];
  let poolsPerClient = 1;
  for (const c of clients) {
    poolsPerClient = Math.max(poolsPerClient, c.pools.length);
    c.pools.forEach((p, k) => {
      for (const z of p.zones) poolRows.push(sql`(${c.clientId}::uuid, ${k}::integer, ${z}::text, ${p.seconds}::bigint)`);
    });
  }
  if (poolRows.length === 0) poolRows.push(sql`(null::uuid, -1, null::text, 0::bigint)`);
  const ids = sql.join(
    clients.map((c) => sql`${c.clientId}::uuid`),
    sql`, `,
  );
  // The seconds wanted so far by each pool k of the client (running sums over the client's
  // calls in start order), and the one of the call's own pool.
  const pools = Array.from({ length: poolsPerClient }, (_, k) => k);
  const runningSums = sql.join(
    pools.map((k) => sql.raw(`(sum(case when z.pool = ${k} then z.want else 0 end) over client_calls)::bigint as s${k}`)),
    sql`, `,
  );
  const sIncl = sql.raw(`case w.pool ${pools.map((k) => `when ${k} then w.s${k}`).join(' ')} end`);
  const result = await withSettings(db, RATING_SETTINGS, (tx) =>
    tx.execute(sql`
    with ${tariffCtes(periods, first)},
    p(client_id, pool, zone, seconds) as (values ${sql.join(poolRows, sql`, `)}),
    z as (
      select c.ctid as row_id, c.client_id, c.started_at, c.id,
        c.invoice_id is not null and c.rated_at is not null as fixed,
        case when c.allowed then c.billable_seconds else 0 end::bigint as secs,
        zz.zone as stored_zone, case when c.allowed then zz.zone end as zone, coalesce(zz.micros, 0) as micros,
        pp.pool, pp.seconds as allowance,
        case when not c.allowed or zz.zone is null then 0
          when c.invoice_id is not null and c.rated_at is not null then coalesce(c.pack_seconds, 0)
          else c.billable_seconds end::bigint as want
      from ${cdrs} c
      left join pr on c.started_at >= pr.from_ts and c.started_at < pr.to_ts
      left join lateral (
        select t.zone, t.micros from t
        where t.period = pr.period and left(c.destination, length(t.prefix)) = t.prefix
        order by length(t.prefix) desc limit 1
      ) zz on c.direction = 'outbound' and not c.emergency and left(c.destination, 1) = '+'
      left join lateral (
        select p.pool, p.seconds from p where p.client_id = c.client_id and p.zone = (case when c.allowed then zz.zone end) limit 1
      ) pp on true
      where c.client_id in (${ids})
        and c.started_at >= ${ts(startOfLocalDay(first))} and c.started_at < ${ts(startOfLocalDay(addMonths(first, 1)))}
        and c.ended_at is not null
    ),
    w as (
      select z.*, ${runningSums} from z
      window client_calls as (partition by z.client_id order by z.started_at, z.id rows unbounded preceding)
    ),
    r0 as (
      select w.row_id, w.stored_zone,
        case when w.zone is null or w.secs <= 0 or w.allowance is null then 0
          else greatest(0, w.allowance - (${sIncl} - w.want)) - greatest(0, w.allowance - ${sIncl}) end::bigint as pack,
        w.zone, w.secs, w.micros
      from w where not w.fixed
    ),
    r as (select r0.row_id, r0.stored_zone, r0.pack::integer as pack, ${costCents(sql`r0.zone`, sql`r0.secs`, sql`r0.pack`, sql`r0.micros`)} as cost from r0)
    , u as (
      update ${cdrs} set rated_at = ${ts(at)}, zone = r.stored_zone, pack_seconds = r.pack, cost_cents = r.cost
      from r where ${cdrs}.ctid = r.row_id
        and (${cdrs.ratedAt} is null or ${cdrs.zone} is distinct from r.stored_zone or ${cdrs.packSeconds} is distinct from r.pack or ${cdrs.costCents} is distinct from r.cost)
      returning 1
    )
    select count(*)::integer as n from u
  `),
  );
  const rows = (result as { rows: { n: number }[] }).rows;
  return rows[0]?.n ?? 0;
}
