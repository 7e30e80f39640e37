/**
 * Call policy evaluation latency (§4.3b/§4.10 live limits included): `decide` of the
 * database call policy at a steady offered rate, as the SIP router calls it before
 * every call — the per-client locked transaction that reads the facts and the live
 * counters and records the decision — then `answered` and `ended` (the call lasts
 * BENCH_HOLD_MS) so that live calls, attempts and spend are really counted.
 * Bounded: BENCH_SECONDS of load, then it waits for the calls in flight and stops.
 * Parameters: BENCH_RATE calls/s (200), BENCH_SECONDS (20), BENCH_CLIENTS (50, 20 users
 * each), BENCH_HOLD_MS (2000), BENCH_DATABASE_URL (PostgreSQL instead of the embedded
 * PGlite; gets migrated), BENCH_POLICY_COUNTERS (`database` = the per-client locked
 * transaction, the default; `memory` / `redis` = the fast policy of issue #7: facts cached
 * per node, counters in memory or in Redis at BENCH_REDIS_URL (redis://127.0.0.1:6379,
 * keys under a prefix of the run), decision rows by group commit — its flush is awaited
 * at the end and timed apart).
 * Also prints, as the floor of any decision, the latency of a bare `SELECT 1` sampled
 * during the same load (one every 10 calls), and the machine's load average: on a shared
 * machine the figures mean little without them.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { count, inArray, sql } from 'drizzle-orm';
import { openDatabase } from '../src/db/client.ts';
import { freshMemoryDatabase } from '../src/db/template.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { newId } from '../src/kernel/ids.ts';
import { tariffVersions, tariffZones } from '../src/modules/catalog/schema.ts';
import { clients } from '../src/modules/customers/schema.ts';
import { memoryAdmissionStore } from '../src/modules/policy/admission-store.ts';
import { dbCallPolicy } from '../src/modules/policy/db-call-policy.ts';
import { fastCallPolicy } from '../src/modules/policy/fast-call-policy.ts';
import { redisAdmissionStore } from '../src/modules/policy/redis-admission-store.ts';
import { openChangeFeed } from '../src/db/changes.ts';
import { policyClientSettings, policyDecisions } from '../src/modules/policy/schema.ts';

const rate = Number(process.env.BENCH_RATE ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const clientCount = Number(process.env.BENCH_CLIENTS ?? 50);
const holdMs = Number(process.env.BENCH_HOLD_MS ?? 2000);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const database = databaseUrl ? await openDatabase({ url: databaseUrl }) : await freshMemoryDatabase();
if (databaseUrl) await database.migrate();
const db = database.db;
const now = new Date();
for (const [zone, prefix, micros] of [
  [`BE-${now.getTime()}`, '+32', 25_000],
  [`FR-${now.getTime()}`, '+33', 40_000],
] as const) {
  await db.insert(tariffZones).values({ code: zone, createdAt: now });
  await db.insert(tariffVersions).values({ zone, effective: '2020-01-01', perMinuteMicros: micros, prefixes: [prefix], noticeAt: null, createdAt: now });
}
const tenants: { clientId: string; users: string[] }[] = [];
for (let i = 0; i < clientCount; i++) {
  const clientId = newId();
  await db.insert(clients).values({ id: clientId, name: `Bench ${i}`, createdAt: now });
  // 20 users: max(4, 2 × 20) = 40 concurrent calls by the default; set explicitly (no provisioned users here).
  await db.insert(policyClientSettings).values({ clientId, maxConcurrentCalls: 40, updatedAt: now });
  tenants.push({ clientId, users: Array.from({ length: 20 }, () => newId()) });
}

const mode = process.env.BENCH_POLICY_COUNTERS ?? 'database';
if (!['database', 'memory', 'redis'].includes(mode)) throw new Error(`BENCH_POLICY_COUNTERS must be database, memory or redis, got ${mode}`);
const changes = await openChangeFeed(database);
const store =
  mode === 'memory'
    ? memoryAdmissionStore()
    : mode === 'redis'
      ? redisAdmissionStore({ url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', nodeId: 'bench', prefix: `e2p-bench-policy:${now.getTime()}:` })
      : null;
const fast = store ? fastCallPolicy({ db, clock: systemClock, store, changes }) : null;
const policy = fast ?? dbCallPolicy({ db, clock: systemClock });
// Fast modes: a node's steady state has every client's facts in memory (a change notice
// makes one client's next call read them again): they are loaded before the load, timed apart.
if (fast) {
  const t0 = performance.now();
  for (const t of tenants) await fast.facts.get(t.clientId);
  process.stdout.write(`facts of ${tenants.length} clients loaded in ${(performance.now() - t0).toFixed(1)} ms (one statement each)\n`);
}
const latencies: number[] = [];
const pings: number[] = [];
const loadAtStart = loadavg()[0]!;
let allowed = 0;
let refused = 0;
const inFlight = new Set<Promise<void>>();
const total = rate * seconds;
const intervalMs = 1000 / rate;
const start = performance.now();
process.stdout.write(
  `policy-decide: ${rate} calls/s for ${seconds} s, ${clientCount} clients × 20 users, hold ${holdMs} ms, database ${database.kind}, counters ${mode}\n`,
);

for (let n = 0; n < total; n++) {
  const due = start + n * intervalMs;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const tenant = tenants[n % tenants.length]!;
  const to = n % 10 === 0 ? '+33187654321' : '+3222223344';
  const p = (async () => {
    const t0 = performance.now();
    const d = await policy.decide({
      clientId: tenant.clientId,
      userId: tenant.users[Math.floor(n / tenants.length) % 20]!,
      fromExtension: '101',
      dialled: to,
      normalised: to,
      presentedCallerId: null,
      privacy: false,
    });
    latencies.push(performance.now() - t0);
    if (!d.allowed) {
      refused++;
      return;
    }
    allowed++;
    await policy.answered(d.admission!, new Date());
    await new Promise((r) => setTimeout(r, holdMs));
    await policy.ended(d.admission!, new Date());
  })();
  inFlight.add(p);
  if (n % 10 === 5) {
    const q = (async () => {
      const t0 = performance.now();
      await db.execute(sql`SELECT 1`);
      pings.push(performance.now() - t0);
    })();
    inFlight.add(q);
    void q.finally(() => inFlight.delete(q));
  }
  void p.finally(() => inFlight.delete(p));
}
const offeredFor = (performance.now() - start) / 1000;
await Promise.all(inFlight);
latencies.sort((a, b) => a - b);
pings.sort((a, b) => a - b);
const at = (xs: number[], q: number): string => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!.toFixed(2);
const pct = (q: number): string => at(latencies, q);
process.stdout.write(
  `decided ${latencies.length} in ${offeredFor.toFixed(1)} s (${(latencies.length / offeredFor).toFixed(0)}/s offered), allowed ${allowed}, refused ${refused}\n` +
    `decide latency ms: p50 ${pct(0.5)}  p90 ${pct(0.9)}  p99 ${pct(0.99)}  max ${latencies[latencies.length - 1]!.toFixed(2)}\n` +
    `SELECT 1 during the load ms: p50 ${at(pings, 0.5)}  p99 ${at(pings, 0.99)}; load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end (1 min)\n`,
);
const flushStart = performance.now();
await fast?.flush();
const flushMs = performance.now() - flushStart;
if (fast) {
  const rows = await db
    .select({ n: count() })
    .from(policyDecisions)
    .where(inArray(policyDecisions.clientId, tenants.map((t) => t.clientId)));
  process.stdout.write(`decision rows in the database: ${rows[0]!.n} of ${latencies.length}; last flush ${flushMs.toFixed(1)} ms\n`);
}
await fast?.close();
await store?.close();
await changes.close();
await database.close();
