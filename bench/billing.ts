/**
 * Billing benchmark (issue #5): N clients × U users with a signed, installed contract and M
 * outbound CDRs spread over one month; measures rating (CDRs/s, §8.3 with packs) and the
 * billing run (§8.1) with the PDF and the Peppol UBL of every invoice, and the peak RSS.
 *
 *   npm run bench:billing                                  # defaults: 50 clients × 20 users, 50 000 CDRs
 *   BENCH_CLIENTS=10000 BENCH_CDRS=10000000 npm run bench:billing   # the issue's full size (BENCH_RUN_LIMIT=1000: bill the first 1 000 only)
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/e2p_billing npm run bench:billing
 *   BENCH_RATE_BATCH (clients per rating statement: a tenth of the clients, at most 100), BENCH_RATE_CONNECTIONS (statements at once: 2 on PostgreSQL, 1 on PGlite)
 *   BENCH_RATE_CLIENTS (rate the first C clients only; the run then bills unrated calls too)
 *   BENCH_DB_SETTINGS=wal_compression=lz4 (PostgreSQL: settings of the benchmark's database, ALTER DATABASE … SET)
 *
 * PGlite: in memory (BENCH_PGLITE_DIR for a directory). PostgreSQL: the database named is
 * emptied (schemas public and drizzle dropped) and migrated first.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { asc, sql, type SQL } from 'drizzle-orm';
import pg from 'pg';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config.ts';
import type { AppContext } from '../src/context.ts';
import { openDatabase } from '../src/db/client.ts';
import { SimulatedClock } from '../src/kernel/clock.ts';
import { enterpriseCheckDigits } from '../src/kernel/enterprise-number.ts';
import { localDate } from '../src/kernel/time.ts';
import { createLogger } from '../src/logger.ts';
import { DocumentPool, InvoiceFeed, runBilling, runConcurrencyFor } from '../src/modules/billing/index.ts';
import '../src/modules/payments/index.ts';
import { createProduct } from '../src/modules/catalog/create-product.ts';
import { createTariffZone } from '../src/modules/catalog/create-tariff-zone.ts';
import { clientsWithLiveContract } from '../src/modules/customers/contract-store.ts';
import { completeInstallation } from '../src/modules/customers/complete-installation.ts';
import { createClient } from '../src/modules/customers/create-client.ts';
import { createContract } from '../src/modules/customers/create-contract.ts';
import { signContract } from '../src/modules/customers/sign-contract.ts';
import { createUsers } from '../src/modules/provisioning/create-users.ts';
import { clients } from '../src/modules/customers/schema.ts';
import { rateClientsMonth } from '../src/modules/rating/rate-client-month.ts';
import { cpuByPid, databaseBackendPids } from './proc.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const USERS = Number(process.env.BENCH_USERS ?? 20);
const CDRS = Number(process.env.BENCH_CDRS ?? 50_000);
// A tenth of the clients at most: a statement's new row versions must fit in the free space
// of the pages (fillfactor 85) to be HOT updates.
const RATE_BATCH = Number(process.env.BENCH_RATE_BATCH ?? Math.min(100, Math.ceil(CLIENTS / 10)));
const RUN_LIMIT = Number(process.env.BENCH_RUN_LIMIT ?? CLIENTS);
const RATE_CLIENTS = Number(process.env.BENCH_RATE_CLIENTS ?? CLIENTS);
const DOC_WORKERS = Number(process.env.BENCH_DOC_WORKERS ?? 1);
/** BENCH_DOCS_AFTER=1: the documents rendered after the run (as before), not while it goes. */
const DOCS_AFTER = process.env.BENCH_DOCS_AFTER === '1';
const url = process.env.BENCH_DATABASE_URL;
const RATE_CONNECTIONS = Number(process.env.BENCH_RATE_CONNECTIONS ?? (url ? 2 : 1));
/** Clients billed at once (default: as the job, `runConcurrencyFor`). */
const RUN_CONCURRENCY = Number(process.env.BENCH_RUN_CONCURRENCY ?? runConcurrencyFor(url ? 'postgres' : 'pglite'));

// Peak RSS: the kernel's high-water mark (VmHWM, reset per phase by clear_refs) where there is
// one. A timer alone misses it on PGlite: a statement runs synchronously in WebAssembly, and
// back-to-back statements resolve in microtasks, so no timer fires for the whole data build.
let peakRss = 0;
let phasePeakRss = 0; // since the last `phase()`
const highWaterMark = (): number => {
  try {
    const kib = /^VmHWM:\s*(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
};
const sampleRss = (): void => {
  const rss = Math.max(process.memoryUsage().rss, highWaterMark());
  peakRss = Math.max(peakRss, rss);
  phasePeakRss = Math.max(phasePeakRss, rss);
};
const sampler = setInterval(sampleRss, 200);
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const load1 = (): string => loadavg()[0]!.toFixed(1);
/**
 * The figures of a phase (the machine is shared: compare CPU, not wall clock): load average at
 * its start and end, this process's CPU (PGlite's backend included: it runs in this thread), peak RSS.
 */
function phase(): () => string {
  const load0 = load1();
  const cpu0 = process.cpuUsage();
  sampleRss(); // the whole process's peak so far, before the reset
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // Linux: VmHWM := the current RSS
  } catch {
    // no /proc: the timer's samples only
  }
  phasePeakRss = process.memoryUsage().rss;
  return () => {
    sampleRss();
    const cpu = process.cpuUsage(cpu0);
    return `[load ${load0} → ${load1()}, process CPU ${secs((cpu.user + cpu.system) / 1000)}, peak RSS ${mib(phasePeakRss)}]`;
  };
}

/** SQL on the server's `postgres` database (CREATE/DROP DATABASE cannot run in the benchmark's own). */
async function onServer(statement: string): Promise<boolean> {
  const target = new URL(url ?? '');
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    return ((await admin.query(statement)).rowCount ?? 0) > 0;
  } finally {
    await admin.end();
  }
}
const dbName = url ? decodeURIComponent(new URL(url).pathname.slice(1)) : '';
const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
// BENCH_SNAPSHOT=<database> (PostgreSQL): the data set (setup, CDRs, unrated) is kept in that
// database after it was built once; later runs copy it (CREATE DATABASE … TEMPLATE), rate and
// bill, so that the run can be measured again and again on the same full-size data.
const SNAPSHOT = url ? process.env.BENCH_SNAPSHOT : undefined;
const fromSnapshot = SNAPSHOT !== undefined && (await onServer(`select 1 from pg_database where datname = '${SNAPSHOT.replaceAll("'", "''")}'`));
if (fromSnapshot && SNAPSHOT) {
  const t0 = performance.now();
  await onServer(`drop database if exists ${quoteIdent(dbName)} with (force)`);
  await onServer(`create database ${quoteIdent(dbName)} template ${quoteIdent(SNAPSHOT)}`);
  process.stdout.write(`copied the data set of ${SNAPSHOT} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
} else if (url) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS drizzle CASCADE; CREATE SCHEMA public;');
  await admin.end();
}
// BENCH_DB_SETTINGS (PostgreSQL): `name=value,…` set on the benchmark's database (ALTER DATABASE … SET)
// before it is opened, e.g. `wal_compression=lz4`: a server setting measured on this database only.
for (const pair of url ? (process.env.BENCH_DB_SETTINGS ?? '').split(',').filter((x) => x.includes('=')) : []) {
  const [name, value] = pair.split('=') as [string, string];
  if (!/^[a-z_]+$/.test(name) || !/^[\w.]+$/.test(value)) throw new Error(`BENCH_DB_SETTINGS: ${pair} is not name=value`);
  await onServer(`alter database ${quoteIdent(dbName)} set ${name} = '${value}'`);
}
// BENCH_CDRS_FILLFACTOR (PostgreSQL, with a snapshot): the copy's cdrs rewritten with that fillfactor
// (VACUUM FULL) before the run — room on each page for the update that marks a call invoiced.
const CDRS_FILLFACTOR = process.env.BENCH_CDRS_FILLFACTOR;
let database = await openDatabase(url ? { url } : { dataDir: process.env.BENCH_PGLITE_DIR ?? 'memory://' });
await database.migrate();
const clock = new SimulatedClock('2026-12-01T09:00:00+01:00');
const ctx: AppContext = { config: loadConfig({ E2P_LOG_LEVEL: 'silent' }), database, db: database.db, clock, log: createLogger('silent'), metrics: new Registry() };
process.stdout.write(`billing benchmark: ${CLIENTS} clients × ${USERS} users, ${CDRS} CDRs in December 2026, database ${database.kind}${url ? '' : ` (${process.env.BENCH_PGLITE_DIR ?? 'in memory'})`}, rating ${RATE_BATCH} clients per statement on ${RATE_CONNECTIONS} connection(s), run limited to ${RUN_LIMIT} clients, ${RUN_CONCURRENCY} at once, ${DOC_WORKERS} document worker(s)\n`);

let t = performance.now();
if (!fromSnapshot) await buildDataSet();
/** Catalogue, clients, users, CDRs. */
async function buildDataSet(): Promise<void> {
  // Catalogue: per-user subscription, a pack of 200 minutes for Belgian fixed, tariffs.
  t = performance.now();
  let figures = phase();
  await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
  await createProduct(ctx, { actor: 'system', code: 'PACK-BE', kind: 'pack', unit: 'fixed', priceCents: 900, packMinutes: 200, packZones: ['BE-FIXED'] });
  await createTariffZone(ctx, { actor: 'system', zone: 'BE-FIXED', prefixes: ['+32'], perMinuteMicros: 25_000 });
  await createTariffZone(ctx, { actor: 'system', zone: 'BE-MOBILE', prefixes: ['+3246', '+3247', '+3248', '+3249'], perMinuteMicros: 85_000 });
  await createTariffZone(ctx, { actor: 'system', zone: 'FR', prefixes: ['+33'], perMinuteMicros: 40_000 });
  /** A valid, unique Belgian enterprise number per client (§1 check digits). */
  const enterpriseNumberOf = (i: number): string => {
    const first = `04${String(i).padStart(6, '0')}`;
    return first + enterpriseCheckDigits(first);
  };
  // Client 0 through the services (client, contract signed and installed, users); clients
  // 1…N−1 are copies of it made by set-based INSERT … SELECT generate_series (the setup of
  // 10 000 clients × 20 users through the services took hours): same contract, lines and
  // users, their own ids, names, enterprise numbers (check digits in SQL) and SIP usernames.
  const template = await createClient(ctx, { principal: 'system', name: 'Bench 0', enterpriseNumber: enterpriseNumberOf(0) });
  const draft = await createContract(ctx, { actor: 'system', clientId: template.id, lines: [{ product: 'USER', quantity: USERS }, { product: 'PACK-BE', quantity: 1 }] });
  await signContract(ctx, { actor: 'system', clientId: template.id, contractId: draft.id });
  await completeInstallation(ctx, { actor: 'system', clientId: template.id });
  await createUsers(ctx, { actor: 'system', clientId: template.id, users: Array.from({ length: USERS }, (_, u) => ({ extension: String(101 + u) })) });
  /** The id of client i in SQL (i an integer expression). */
  const clientIdSql = (i: SQL): SQL => sql`(case when ${i} = 0 then ${template.id}::uuid else md5('bench-client-' || ${i})::uuid end)`;
  const CLONE_BATCH = 1000;
  for (let from = 1; from < CLIENTS; from += CLONE_BATCH) {
    const to = Math.min(CLIENTS - 1, from + CLONE_BATCH - 1);
    const i = sql.raw('g.i');
    await ctx.db.transaction(async (tx) => {
      await tx.execute(sql`
        insert into clients (id, name, legal_name, enterprise_number, language, billing_email, address, deposit_cents, service_state, created_at)
        select ${clientIdSql(i)}, 'Bench ' || g.i, c.legal_name,
          '04' || lpad(g.i::text, 6, '0') || lpad((97 - (('04' || lpad(g.i::text, 6, '0'))::bigint % 97))::text, 2, '0'),
          c.language, c.billing_email, c.address, c.deposit_cents, c.service_state, c.created_at
        from clients c cross join generate_series(${from}::integer, ${to}::integer) g(i) where c.id = ${template.id}::uuid`);
      await tx.execute(sql`
        insert into contracts (id, client_id, state, minimum_months, enabled, signed_at, service_start_date, minimum_term_end, end_date, termination_clause,
          termination_ground, terminated_by, non_renewal_at, terminated_at, created_at)
        select md5('bench-contract-' || g.i)::uuid, ${clientIdSql(i)}, c.state, c.minimum_months, c.enabled, c.signed_at, c.service_start_date, c.minimum_term_end,
          c.end_date, c.termination_clause, c.termination_ground, c.terminated_by, c.non_renewal_at, c.terminated_at, c.created_at
        from contracts c cross join generate_series(${from}::integer, ${to}::integer) g(i) where c.client_id = ${template.id}::uuid`);
      await tx.execute(sql`
        insert into contract_lines (client_id, contract_id, product_code, quantity, price_cents)
        select ${clientIdSql(i)}, md5('bench-contract-' || g.i)::uuid, l.product_code, l.quantity, l.price_cents
        from contract_lines l cross join generate_series(${from}::integer, ${to}::integer) g(i) where l.client_id = ${template.id}::uuid order by g.i, l.id`);
      await tx.execute(sql`
        insert into provisioned_users (id, client_id, extension, display_name, site, sip_username, sip_realm, ha1_md5, ha1_sha256, credentials_set_at, created_at, deleted_at)
        select md5('bench-user-' || g.i || '-' || u.id)::uuid, ${clientIdSql(i)}, u.extension, u.display_name, u.site, u.sip_username || '-' || g.i,
          u.sip_realm, u.ha1_md5, u.ha1_sha256, u.credentials_set_at, u.created_at, u.deleted_at
        from provisioned_users u cross join generate_series(${from}::integer, ${to}::integer) g(i) where u.client_id = ${template.id}::uuid`);
    });
  }
  process.stdout.write(`setup: ${CLIENTS} clients, ${CLIENTS * USERS} users in ${secs(performance.now() - t)} ${figures()}\n`);

  // CDRs: December 1–27, uniformly, destinations fixed / mobile / France, 5–600 s answered;
  // call k belongs to client k mod N. One INSERT … SELECT generate_series per 500 000 calls.
  t = performance.now();
  figures = phase();
  const monthStart = Date.parse('2026-12-01T00:00:00+01:00');
  const span = Date.parse('2026-12-27T23:00:00+01:00') - monthStart;
  const CDR_BATCH = 500_000;
  for (let done = 0; done < CDRS; done += CDR_BATCH) {
    const k = sql.raw('g.k');
    await ctx.db.execute(sql`
      insert into cdrs (id, client_id, user_id, call_id, direction, from_extension, dialled, destination, allowed, sip_status, started_at, answered_at, ended_at, billable_seconds)
      select gen_random_uuid(), ${clientIdSql(sql`(${k} % ${CLIENTS}::bigint)`)}, null, null, 'outbound', (101 + ${k} % ${USERS}::bigint)::text, x.dest, x.dest, true, 200,
        x.started, x.started, x.started + make_interval(secs => (5 + ${k} % 596)::integer), (5 + ${k} % 596)::integer
      from generate_series(${done}::bigint, ${Math.min(CDRS, done + CDR_BATCH) - 1}::bigint) g(k)
      cross join lateral (select
        (array['+3222223344', '+32470123456', '+33187650000', '+3243210000'])[(${k} % 4) + 1] as dest,
        ${new Date(monthStart).toISOString()}::timestamptz + make_interval(secs => floor((${k} * 7919 % 1000003)::numeric / 1000003 * ${span}) / 1000) as started) x`);
    if (CDRS > CDR_BATCH) process.stdout.write(`  CDRs ${Math.min(CDRS, done + CDR_BATCH)} at ${secs(performance.now() - t)}, RSS ${mib(process.memoryUsage().rss)}, load ${load1()}\n`);
  }
  process.stdout.write(`CDRs written: ${CDRS} in ${secs(performance.now() - t)} ${figures()}\n`);
}
if (SNAPSHOT && !fromSnapshot) {
  // Kept before the rating (measured on every copy); autovacuum would have run between the calls and the rating: the copy starts vacuumed and analysed.
  await database.db.execute(sql`vacuum analyze`);
  await database.close();
  await onServer(`create database ${quoteIdent(SNAPSHOT)} template ${quoteIdent(dbName)}`);
  process.stdout.write(`data set kept in ${SNAPSHOT} (BENCH_SNAPSHOT): the next runs copy it, rate and bill\n`);
  database = await openDatabase({ url });
}

/** CPU seconds of each backend connected to the benchmark's database (PostgreSQL on this machine; empty on PGlite). */
const backendsCpu = async (): Promise<Map<number, number>> => cpuByPid(await databaseBackendPids(database));

/**
 * Rating: every client-month (§8.3) by `rateClientsMonth`, RATE_BATCH clients per statement on
 * RATE_CONNECTIONS connections at once. Measured on every run (a snapshot is kept unrated).
 */
async function rateAll(): Promise<void> {
  // BENCH_RATE_CLIENTS: rate only the first C clients (the rating's cost per call on the whole table, in less time).
  const clientIds = (await database.db.select({ id: clients.id }).from(clients).orderBy(asc(clients.id))).map((c) => c.id).slice(0, RATE_CLIENTS);
  const at = new Date('2026-12-28T00:00:00+01:00');
  const backends0 = await backendsCpu();
  t = performance.now();
  const cpu0 = process.cpuUsage();
  const figures = phase();
  const rateBatches: string[][] = [];
  for (let i = 0; i < clientIds.length; i += RATE_BATCH) rateBatches.push(clientIds.slice(i, i + RATE_BATCH));
  let nextBatch = 0;
  const ratedPerConnection = await Promise.all(
    Array.from({ length: RATE_CONNECTIONS }, async () => {
      let n = 0;
      for (let b = nextBatch++; b < rateBatches.length; b = nextBatch++) n += await rateClientsMonth(database.db, rateBatches[b]!, '2026-12-01', at);
      return n;
    }),
  );
  const rated = ratedPerConnection.reduce((a, b) => a + b, 0);
  const ratingMs = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const backends1 = await backendsCpu();
  const pgCpu = [...backends1].reduce((sum, [pid, seconds]) => sum + seconds - (backends0.get(pid) ?? 0), 0);
  process.stdout.write(
    `rating: ${rated} CDRs in ${secs(ratingMs)} = ${Math.round(rated / (ratingMs / 1000))} CDRs/s (node CPU ${secs((cpu.user + cpu.system) / 1000)}` +
      (url ? `; PostgreSQL backends' CPU ${pgCpu.toFixed(1)} s = ${((pgCpu * 1e6) / Math.max(1, rated)).toFixed(1)} µs/CDR, from /proc` : '') +
      `) ${figures()}\n`,
  );
}
const db = database.db;
if (fromSnapshot && CDRS_FILLFACTOR) {
  const t0 = performance.now();
  await db.execute(sql.raw(`alter table cdrs set (fillfactor = ${Number(CDRS_FILLFACTOR)})`));
  await db.execute(sql`vacuum full analyze cdrs`);
  process.stdout.write(`cdrs rewritten with fillfactor ${Number(CDRS_FILLFACTOR)} in ${secs(performance.now() - t0)}\n`);
}

await rateAll();

// The run of 28 December 00:00 and the documents of every invoice: rendered while the run goes
// (the ids fed to the pool as clients commit), or after it with BENCH_DOCS_AFTER=1 (as before).
const at = new Date('2026-12-28T00:00:00+01:00');
const pool = new DocumentPool(DOC_WORKERS);
const feed = new InvoiceFeed();
let pdfBytes = 0;
let ublBytes = 0;
let documents = 0;
const renderDocuments = (): Promise<number> =>
  // Documents streamed through the worker pool (BENCH_DOC_WORKERS threads): loaded here, rendered there.
  pool.renderAll(db, feed, (d) => {
    documents++;
    pdfBytes += d.pdf.body.length;
    ublBytes += d.ubl.body.length;
  });
t = performance.now();
const runStart = t;
const runFigures = phase();
// Progress every tenth of the run (a run cut short still gives ms/client; RSS flat or not).
const step = Math.max(1, Math.ceil(RUN_LIMIT / 10));
let stepStart = t;
const rendering = DOCS_AFTER ? null : renderDocuments();
rendering?.catch(() => undefined); // awaited below
// BENCH_RUN_LIMIT: stop the run after that many clients (ms/client measured on the full data).
class RunLimit extends Error {}
let invoices = 0;
let billed = 0;
try {
  await runBilling({
    db,
    at,
    concurrency: RUN_CONCURRENCY,
    afterClient: async (_client, id) => {
      if (id !== null) {
        invoices++;
        feed.push(id);
      }
      if (++billed % step === 0 && billed < RUN_LIMIT) {
        const now = performance.now();
        process.stdout.write(
          `  run: ${billed} clients at ${secs(now - runStart)} (last ${step}: ${((now - stepStart) / step).toFixed(0)} ms/client), ${documents} documents, RSS ${mib(process.memoryUsage().rss)}, load ${load1()}\n`,
        );
        stepStart = now;
      }
      if (billed >= RUN_LIMIT) throw new RunLimit();
      return Promise.resolve();
    },
  });
} catch (e) {
  if (!(e instanceof RunLimit)) {
    feed.fail(e);
    throw e;
  }
}
feed.end();
const runMs = performance.now() - t;
t = performance.now();
const rendered = await (rendering ?? renderDocuments());
await pool.close();
const docsMs = performance.now() - t;
const totalMs = performance.now() - runStart;
clearInterval(sampler);
sampleRss();
process.stdout.write(
  `billing run ${localDate(at)}: ${invoices} invoices in ${secs(runMs)} (${(runMs / Math.max(1, invoices)).toFixed(0)} ms/client); ` +
    `PDF + UBL of ${rendered} (${DOCS_AFTER ? 'after the run' : 'during the run'}): ${secs(docsMs)} ${DOCS_AFTER ? '' : 'after the run ended '}(${(docsMs / Math.max(1, invoices)).toFixed(0)} ms/invoice, ${mib(pdfBytes)} PDF, ${mib(ublBytes)} UBL); ` +
    `run + documents ${secs(totalMs)} ${runFigures()}\n`,
);
process.stdout.write(`live clients ${(await clientsWithLiveContract(db)).length}; peak RSS ${mib(peakRss)}\n`);
await database.close();
