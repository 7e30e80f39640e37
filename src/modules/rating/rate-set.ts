/**
 * §8.3 set-based rating: the calls of many clients of one calendar month (local) rated by
 * ONE SQL statement, with the same results as `rateCalls` (call-rating.ts):
 * - the zone is the longest E.164 prefix of the tariff version in force on the local day
 *   the call started (§8.2/§8.3; on a tie of equal prefixes the first zone in code order
 *   wins, as `longestPrefixMatch` over `tariffOn`), looked up in a jsonb map of the
 *   period's prefixes (`zoneOfCall`), and the call's pack pool in a map of (client, zone) —
 *   each in a lateral subquery the planner memoizes per (period, destination) and per
 *   (client, zone);
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
 * The zone of a call `c` of period `pr.period` (§8.2/§8.3) as a jsonb `[zone, µ€ per minute]`,
 * null when no prefix matches: the tariff of period i is one jsonb object (prefix → [zone,
 * micros], ties already resolved by `tariffPeriodsOf`), the column `p<i>` of the CTE `m`
 * (`tariffColumns`) read as a scalar subquery (evaluated once per statement), looked up with
 * the call's destination cut to each prefix length of the period, longest first. It is the
 * body of a lateral subquery keyed by (period, destination) that the planner memoizes when it
 * knows the calls repeat their destinations; when it does not (no statistics: PGlite never
 * analyses, nor a table just loaded) each call costs a few key lookups, never a scan of the
 * tariff's prefixes.
 */
export function zoneOfCall(periods: readonly TariffPeriod[]): SQL {
  if (periods.length === 0) return sql`null::jsonb`;
  const branches = periods.map((p, i) => {
    const lengths = [...new Set([...p.prefixes.keys()].map((k) => k.length))].sort((a, b) => b - a);
    const lookup = lengths.length === 0 ? 'null::jsonb' : `coalesce(${lengths.map((n) => `(select p${i} from m)->left(c.destination, ${n})`).join(', ')})`;
    return `when ${i} then ${lookup}`;
  });
  return sql.raw(`case pr.period ${branches.join(' ')} end`);
}

/** The columns `p0, p1, …` of the CTE `m` read by `zoneOfCall`: each period's tariff as jsonb. */
export function tariffColumns(periods: readonly TariffPeriod[]): SQL {
  return sql.join(
    periods.map((p, i) => sql`${JSON.stringify(Object.fromEntries([...p.prefixes].map(([prefix, z]) => [prefix, [z.zone, z.perMinuteMicros]])))}::jsonb as ${sql.raw(`p${i}`)}`),
    sql`, `,
  );
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
 * TID scan per row) instead of hashing the whole table; no merge join.
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
  // "client|zone" → [pool index, allowance] (a client's merged pools are disjoint: one pool per zone).
  const pools: Record<string, [number, number]> = {};
  let poolsPerClient = 1;
  for (const c of clients) {
    poolsPerClient = Math.max(poolsPerClient, c.pools.length);
    c.pools.forEach((p, k) => {
      for (const z of p.zones) pools[`${c.clientId}|${z}`] = [k, p.seconds];
    });
  }
  const ids = sql.join(
    clients.map((c) => sql`${c.clientId}::uuid`),
    sql`, `,
  );
  // The seconds wanted so far by each pool k of the client (running sums over the client's
  // calls in start order), and the one of the call's own pool.
  const poolIndexes = Array.from({ length: poolsPerClient }, (_, k) => k);
  const runningSums = sql.raw(poolIndexes.map((k) => `(sum(case when y.pool = ${k} then y.want else 0 end) over client_calls)::bigint as s${k}`).join(', '));
  const sIncl = sql.raw(`case w.pool ${poolIndexes.map((k) => `when ${k} then w.s${k}`).join(' ')} end`);
  const result = await withSettings(db, RATING_SETTINGS, (tx) =>
    tx.execute(sql`
    with m as (select ${JSON.stringify(pools)}::jsonb as pools${periods.length > 0 ? sql`, ${tariffColumns(periods)}` : sql``}),
    pr(period, from_ts, to_ts) as (values ${sql.join(
      periods.length > 0 ? periods.map((p, i) => sql`(${i}::integer, ${ts(p.from)}, ${ts(p.to)})`) : [sql`(-1, null::timestamptz, null::timestamptz)`],
      sql`, `,
    )}),
    y as (
      select c.ctid as row_id, c.client_id, c.started_at, c.id,
        c.invoice_id is not null and c.rated_at is not null as fixed,
        case when c.allowed then c.billable_seconds else 0 end::bigint as secs,
        zz.zone as stored_zone, case when c.allowed then zz.zone end as zone, coalesce(zz.micros, 0) as micros,
        pp.pool, pp.allowance,
        case when not c.allowed or zz.zone is null then 0
          when c.invoice_id is not null and c.rated_at is not null then coalesce(c.pack_seconds, 0)
          else c.billable_seconds end::bigint as want
      from ${cdrs} c
      left join pr on c.started_at >= pr.from_ts and c.started_at < pr.to_ts
      left join lateral (
        select q.x->>0 as zone, (q.x->>1)::bigint as micros from (select ${zoneOfCall(periods)} as x offset 0) q
      ) zz on c.direction = 'outbound' and not c.emergency and left(c.destination, 1) = '+'
      left join lateral (
        select (q.e->>0)::integer as pool, (q.e->>1)::bigint as allowance
        from (select (select pools from m)->(c.client_id::text || '|' || zz.zone) as e offset 0) q
      ) pp on true
      where c.client_id in (${ids})
        and c.started_at >= ${ts(startOfLocalDay(first))} and c.started_at < ${ts(startOfLocalDay(addMonths(first, 1)))}
        and c.ended_at is not null
    ),
    w as (
      select y.*, ${runningSums} from y
      window client_calls as (partition by y.client_id order by y.started_at, y.id rows unbounded preceding)
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
