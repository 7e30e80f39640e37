/**
 * §8.3 rating of a whole calendar month (local) of every client, in the physical order of
 * `cdrs` instead of client by client: at full size (10 M calls, a table ten times the
 * shared buffers) a batch of clients touches a large part of the pages, so rating client
 * batches read and dirtied every page about a hundred times. Here:
 *
 * 1. ONE read-only statement (snapshot S) finds, for each pack pool of each client, the
 *    call where the running sum of the seconds it wants crosses the allowance (the "cut":
 *    the calls before it take all their seconds from the pack, the cut takes what is
 *    left, the calls after it none; greedy consumption in start order, §8.3). Invoiced
 *    calls keep their rating and consume their recorded pack seconds, as in rate-set.ts.
 * 2. The rows are written back chunk by chunk of pages (a TID range scan), each chunk in
 *    several transactions that each update a slice of every page's rows (by line pointer),
 *    so that the new versions fit in the free space of the page (fillfactor 85): heap-only
 *    (HOT) updates, the old versions pruned between two slices once their transaction is
 *    committed. A last sweep of the chunk takes whatever row is left.
 *
 * Every write is restricted to the row versions that snapshot S saw (their `xmin` is
 * visible in S): a call inserted, ended, rated or invoiced by another transaction after
 * S keeps what that transaction wrote (a late call stays unrated and is rated at the
 * next run, collectTraffic), as the ctid match of rate-set.ts. Same results as the
 * in-memory reference; clients whose pools overlap are rated by it (rate-client-month.ts).
 */
import { asc, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { addMonths, firstOfMonth, startOfLocalDay, type LocalDate } from '../../kernel/time.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { clients } from '../customers/schema.ts';
import type { PackPool } from './call-rating.ts';
import { packPoolsOfClients, rateClientMonthInMemory } from './rate-client-month.ts';
import { baseColumns, costCents, mergedPools, tariffCtes, tariffPeriodsOf, withSettings, zoneCte } from './rate-set.ts';

export interface RateMonthOptions {
  /** Pages per chunk of the write-back (default 4 096 = 32 MiB, within the shared buffers). */
  chunkPages?: number;
  /** Line-pointer bounds of the slices of a page, one transaction each (then a sweep of the rest). */
  slices?: readonly number[];
  /** Progress after each phase (`pools`, `cuts`, `write-back`), awaited. */
  onPhase?: (p: { phase: string; rows: number; ms: number }) => void | Promise<void>;
}

/** Slices of a page's line pointers: 46 rows of a 10 M-call table fit a page at fillfactor 85 and ≈ 6 new versions fit its free space. */
const DEFAULT_SLICES = [1, 7, 13, 18, 23, 27, 31, 35, 38, 41, 44, 47];

const ts = (d: Date): SQL => sql`${d.toISOString()}::timestamptz`;
const rowsOf = <T>(r: unknown): T[] => (r as { rows: T[] }).rows;
/** A list as one text parameter (the same on node-postgres and PGlite, any length). */
const textList = (values: readonly (string | number)[]): string => values.join(',');

/** Settings of the read-only statement: its window sort in memory, no JIT. */
const CUT_SETTINGS: Readonly<Record<string, string>> = { work_mem: '256MB', jit: 'off', enable_mergejoin: 'off', enable_nestloop: 'off' };

/**
 * Rates every finished call started in the local month of `month` (all clients); returns
 * how many calls were (re)rated. `db` must not be a transaction: the write-back commits
 * chunk by chunk (idempotent: a crash midway is repaired by running it again).
 */
export async function rateMonth(db: Db, month: LocalDate, at: Date, options: RateMonthOptions = {}): Promise<number> {
  const first = firstOfMonth(month);
  const t0 = performance.now();
  const ids = (await db.select({ id: clients.id }).from(clients).orderBy(asc(clients.id))).map((c) => c.id);
  const pools = new Map<string, PackPool[]>();
  // 1 000 clients per read.
  for (let i = 0; i < ids.length; i += 1000) for (const [id, p] of await packPoolsOfClients(db, ids.slice(i, i + 1000), first)) if (p.length > 0) pools.set(id, p);
  await options.onPhase?.({ phase: 'pools', rows: pools.size, ms: performance.now() - t0 });
  return rateMonthWithPools(db, first, at, pools, options);
}

/**
 * `rateMonth` with the pack pools (§8.3) of the month given: `pools` maps a client to its
 * pools (a client not in it has none).
 */
export async function rateMonthWithPools(db: Db, month: LocalDate, at: Date, packPools: ReadonlyMap<string, readonly PackPool[]>, options: RateMonthOptions = {}): Promise<number> {
  const first = firstOfMonth(month);
  const from = startOfLocalDay(first);
  const to = startOfLocalDay(addMonths(first, 1));
  const chunkPages = options.chunkPages ?? 4096;
  const slices = options.slices ?? DEFAULT_SLICES;
  const phase = async (name: string, rows: number, t0: number): Promise<void> => options.onPhase?.({ phase: name, rows, ms: performance.now() - t0 });
  /** Per (client, zone): the client's merged pool and its allowance. */
  const poolZones: { clientId: string; pool: number; zone: string; seconds: number }[] = [];
  const overlapping: string[] = [];
  for (const [clientId, raw] of packPools) {
    const merged = mergedPools(raw);
    if (merged === null) overlapping.push(clientId);
    else merged.forEach((p, k) => p.zones.forEach((zone) => poolZones.push({ clientId, pool: k, zone, seconds: p.seconds })));
  }
  let t0 = performance.now();
  let rated = 0;
  for (const clientId of overlapping) rated += await rateClientMonthInMemory(db, clientId, first, at, packPools.get(clientId));
  await phase('overlapping pools', rated, t0);

  const periods = await tariffPeriodsOf(db, first);
  const tariff = tariffCtes(periods, first);
  const excluded = sql`not (c.client_id = any(string_to_array(${textList(overlapping)}, ',')::uuid[]))`;
  const inMonth = sql`c.started_at >= ${ts(from)} and c.started_at < ${ts(to)} and c.ended_at is not null`;
  const pools = sql`k(client_id, pool, zone, seconds) as (
      select * from unnest(string_to_array(${textList(poolZones.map((p) => p.clientId))}, ',')::uuid[],
        string_to_array(${textList(poolZones.map((p) => p.pool))}, ',')::integer[],
        string_to_array(${textList(poolZones.map((p) => p.zone))}, ',')::text[],
        string_to_array(${textList(poolZones.map((p) => p.seconds))}, ',')::bigint[]))`;

  // 1. The cut of each pool, read in one snapshot S (repeatable read: the same for both statements).
  t0 = performance.now();
  const { snapshot, cuts } = await db.transaction(
    async (tx) => {
      const [s] = rowsOf<{ snapshot: string }>(await tx.execute(sql`select pg_current_snapshot()::text as snapshot`));
      const result = await withSettings(tx, CUT_SETTINGS, (t) =>
        t.execute(sql`
        with ${tariff}, ${pools},
        dz as materialized (
          select distinct on (dd.period, dd.destination) dd.period, dd.destination, t.zone
          from (select distinct pr.period, c.destination from ${cdrs} c join pr on c.started_at >= pr.from_ts and c.started_at < pr.to_ts
            where ${inMonth} and c.allowed and c.direction = 'outbound' and not c.emergency and left(c.destination, 1) = '+') dd
          join t on t.period = dd.period and left(dd.destination, length(t.prefix)) = t.prefix
          order by dd.period, dd.destination, length(t.prefix) desc
        ),
        base as (
          select ${baseColumns}
          from ${cdrs} c left join pr on c.started_at >= pr.from_ts and c.started_at < pr.to_ts
          where ${inMonth} and ${excluded} and c.allowed
        ),
        w as (
          select b.client_id, k.pool, b.started_at, b.id, k.seconds as allowance,
            case when b.fixed then b.fixed_pack else b.secs end as want,
            sum(case when b.fixed then b.fixed_pack else b.secs end)
              over (partition by b.client_id, k.pool order by b.started_at, b.id rows unbounded preceding)::bigint as s_incl
          from base b
          join dz on b.zoned and dz.period = b.period and dz.destination = b.destination
          join k on k.client_id = b.client_id and k.zone = dz.zone
        )
        select distinct on (w.client_id, w.pool) w.client_id, w.pool, w.started_at::text as cut_started, w.id, (w.allowance - (w.s_incl - w.want))::text as pack
        from w where w.s_incl > w.allowance order by w.client_id, w.pool, w.started_at, w.id`),
      );
      return { snapshot: s!.snapshot, cuts: rowsOf<{ client_id: string; pool: number; cut_started: string; id: string; pack: string }>(result) };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  await phase('cuts', cuts.length, t0);

  // Snapshot S as "xmin:xmax:xip,…" (xid8): a row version is one S saw when its xmin is
  // older than S's xmax (compared by age: 32-bit xids wrap) and not in progress at S.
  const [, xmax, xip] = snapshot.split(':') as [string, string, string];
  const xid32 = (x: string): string => String(BigInt(x) % 4294967296n);
  const seenByS = sql`age(c.xmin) > age(${xid32(xmax)}::text::xid) and not (c.xmin = any(string_to_array(${textList(xip === '' ? [] : xip.split(',').map(xid32))}, ',')::xid[]))`;
  const cutKey = new Map(cuts.map((c) => [`${c.client_id}|${c.pool}`, c]));
  const cutCte = sql`kc(client_id, zone, cut_started, cut_id, cut_pack) as (
      select * from unnest(string_to_array(${textList(poolZones.map((p) => p.clientId))}, ',')::uuid[],
        string_to_array(${textList(poolZones.map((p) => p.zone))}, ',')::text[],
        string_to_array(${poolZones.map((p) => cutKey.get(`${p.clientId}|${p.pool}`)?.cut_started ?? '').join(',')}, ',', '')::timestamptz[],
        string_to_array(${poolZones.map((p) => cutKey.get(`${p.clientId}|${p.pool}`)?.id ?? '').join(',')}, ',', '')::uuid[],
        string_to_array(${poolZones.map((p) => cutKey.get(`${p.clientId}|${p.pool}`)?.pack ?? '').join(',')}, ',', '')::bigint[]))`;

  // 2. Write-back in physical order.
  t0 = performance.now();
  const [size] = rowsOf<{ pages: number }>(await db.execute(sql`select (pg_relation_size('cdrs') / current_setting('block_size')::integer)::integer as pages`));
  const pages = size!.pages;
  let writes = 0;
  for (let b0 = 0; b0 < pages; b0 += chunkPages) {
    // The last chunk reaches past the end: rows moved there by non-HOT updates are new versions (not seen by S).
    const range = sql`c.ctid >= ${`(${b0},0)`}::tid and c.ctid < ${`(${b0 + chunkPages},0)`}::tid`;
    const lastChunk = b0 + chunkPages >= pages;
    for (let s = 0; s <= slices.length - 1; s++) {
      const sweep = s === slices.length - 1;
      const slice = sweep ? sql`true` : sql`(c.ctid::text::point)[1] >= ${slices[s]!} and (c.ctid::text::point)[1] < ${slices[s + 1]!}`;
      const where = lastChunk ? sql`c.ctid >= ${`(${b0},0)`}::tid` : range;
      // Its own transaction: no JIT; not waiting for the WAL flush (a commit lost in a crash is rated again: idempotent).
      const result = await db.transaction(async (tx) => {
        await tx.execute(
          sql`select set_config('jit', 'off', true), set_config('synchronous_commit', 'off', true), set_config('work_mem', '64MB', true), set_config('enable_mergejoin', 'off', true)`,
        );
        return tx.execute(sql`
        with ${tariff}, ${cutCte},
        base as (
          select ${baseColumns}
          from ${cdrs} c left join pr on c.started_at >= pr.from_ts and c.started_at < pr.to_ts
          where ${where} and ${slice} and ${inMonth} and ${excluded} and ${seenByS}
            and not (c.invoice_id is not null and c.rated_at is not null)
        ),
        ${zoneCte},
        r as (
          select b.row_id, d.zone as stored_zone, b.secs, coalesce(d.micros, 0) as micros,
            case when b.allowed then d.zone end as zone,
            case when not b.allowed or d.zone is null or b.secs <= 0 or kc.client_id is null then 0
              when kc.cut_started is null or (b.started_at, b.id) < (kc.cut_started, kc.cut_id) then b.secs
              when (b.started_at, b.id) = (kc.cut_started, kc.cut_id) then kc.cut_pack
              else 0 end::bigint as pack
          from base b
          left join d on b.zoned and d.period = b.period and d.destination = b.destination
          left join kc on b.allowed and kc.client_id = b.client_id and kc.zone = d.zone
        ),
        u as (
          update ${cdrs} set rated_at = ${ts(at)}, zone = r.stored_zone, pack_seconds = r.pack::integer,
            cost_cents = ${costCents(sql`r.zone`, sql`r.secs`, sql`r.pack`, sql`r.micros`)}
          from r where ${cdrs}.ctid = r.row_id
          returning 1
        )
        select count(*)::integer as n from u`);
      });
      writes += rowsOf<{ n: number }>(result)[0]?.n ?? 0;
    }
  }
  await phase('write-back', writes, t0);
  return rated + writes;
}
