/**
 * The Easy2Phone side of `npm run bench:sip`, run by bench/sip.ts in its own process
 * (forked with an IPC channel), wired as `npm start` wires it: `createPlatform` with the
 * configuration from the environment (E2P_*, DATABASE_URL; PGlite in E2P_DATA_DIR
 * otherwise), the provisioning directory and the call policy, SIP on UDP.
 * With DATABASE_URL, the database (its name must contain "bench") is emptied first.
 * Before listening it provisions, in bulk, one client and BENCH_USERS users `bench0…`
 * with one password (`provisionBenchUsers`, ./provision.ts).
 * Messages: sends { ready, udpPort, rssBytes } once listening; answers { policyReset } (the
 * call policy's decision-time summary emptied) and { policy } with { count, p50, p90, p99 }
 * (ms, outbound decisions since the reset); answers { rss } with
 * { rssBytes, heapBytes, heapTotalBytes, externalBytes, bindingsBytes } (V8's used and committed heap, the
 * memory of ArrayBuffers and other objects outside it; bindingsBytes: the size of `sip_bindings` with its indexes); { stop } closes the platform and exits (so --cpu-prof writes
 * its profile).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { createPlatform } from '../../src/app.ts';
import { POLICY_DECISION_METRIC } from '../../src/telephony/sip-server.ts';
import { emptyBenchDatabase, provisionBenchUsers } from './provision.ts';

const send = (m: object): void => {
  process.send?.(m);
};
const users = Number(process.env.BENCH_USERS ?? 0);
const password = process.env.BENCH_PASSWORD ?? '';
const config = loadConfig(process.env);
if (config.databaseUrl) await emptyBenchDatabase(config.databaseUrl);
const platform = await createPlatform(config);
// The HTTP routes' schemas are compiled when Fastify gets ready (≈ 1 s of CPU): here before the load, as `npm start` does when it listens.
await platform.http.ready();
const { ctx } = platform;

const provisionSeconds = await provisionBenchUsers(ctx, { users, password, realm: config.sip.domain, numbers: Number(process.env.BENCH_NUMBERS ?? 0) });
const sip = await platform.listenSip();

// BENCH_ALLOC_PROFILE=<file>: V8's sampling heap profiler from here to the stop, counting the
// objects the GC collected too (young and old): where the garbage is allocated, as a
// .heapprofile (DevTools, or bench/sip/alloc.ts).
const allocFile = process.env.BENCH_ALLOC_PROFILE;
const allocSession = allocFile ? new Session() : undefined;
if (allocSession) {
  allocSession.connect();
  await allocSession.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  if (allocSession && allocFile) {
    const { profile } = await allocSession.post('HeapProfiler.stopSampling');
    writeFileSync(allocFile, JSON.stringify(profile));
  }
  await platform.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
/**
 * The policy's decision time (issue #7) since the last reset, in ms: p50/p90/p99 estimated from
 * the histogram's buckets as Prometheus's `histogram_quantile` does (linear within the bucket that
 * holds the rank; the buckets are 10–25 µs wide below 300 µs, `POLICY_DECISION_BUCKETS`), and the count.
 */
const decisions = async (): Promise<{ count: number; p50: number; p90: number; p99: number }> => {
  const metric = ctx.metrics.getSingleMetric(POLICY_DECISION_METRIC);
  const values = metric === undefined ? [] : ((await metric.get()).values as { value: number; labels: Record<string, unknown>; metricName?: string }[]).filter((v) => v.labels.kind === 'outbound');
  const buckets = values.filter((v) => v.metricName === `${POLICY_DECISION_METRIC}_bucket` && v.labels.le !== '+Inf').map((v) => ({ le: Number(v.labels.le), cumulative: v.value }));
  const count = values.find((v) => v.metricName === `${POLICY_DECISION_METRIC}_count`)?.value ?? 0;
  const at = (q: number): number => {
    const rank = q * count;
    let below = { le: 0, cumulative: 0 };
    for (const b of buckets) {
      if (b.cumulative >= rank && b.cumulative > below.cumulative) return 1000 * (below.le + ((b.le - below.le) * (rank - below.cumulative)) / (b.cumulative - below.cumulative));
      below = b;
    }
    return NaN; // above the last bound (or no decision)
  };
  return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
};
/**
 * The memory reading: a full collection first (--expose-gc: what is retained, not garbage not
 * yet collected), then a second one a second later — V8 frees the backing stores of the
 * ArrayBuffers the first one found dead, and gives back emptied heap pages, on background tasks:
 * read at once, a REGISTER storm's answered transactions still showed as ≈ 50 MB of buffers and
 * ≈ 180 MB of heap committed for nothing (100 000 users: 592 MB read at once, 328 MB ten seconds
 * later). `peakRssBytes` is the process's high-water mark (VmHWM), the storm's peak.
 */
async function readMemory(): Promise<{ rssBytes: number; heapBytes: number; heapTotalBytes: number; externalBytes: number; bindingsBytes: number; peakRssBytes: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((r) => setTimeout(r, 1000));
  gc?.();
  const mem = process.memoryUsage();
  // BENCH_HEAP_SNAPSHOT=<dir>: a heap snapshot at each memory reading, to see what calls leave behind.
  if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(join(process.env.BENCH_HEAP_SNAPSHOT, `e2p-${++snapshots}.heapsnapshot`));
  const r = await ctx.db.execute<{ bytes: string }>(sql`select pg_total_relation_size('sip_bindings')::text as bytes`);
  const rows = (Array.isArray(r) ? r : (r as { rows: { bytes: string }[] }).rows) as { bytes: string }[];
  const hwm = /VmHWM:\s+(\d+) kB/u.exec(readFileSync('/proc/self/status', 'utf8'));
  return { rssBytes: mem.rss, heapBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal, externalBytes: mem.external, bindingsBytes: Number(rows[0]?.bytes ?? 0), peakRssBytes: hwm ? Number(hwm[1]) * 1024 : NaN };
}
let snapshots = 0;
process.on('message', (m: { rss?: boolean; stop?: boolean; policyReset?: boolean; policy?: boolean; cpu?: boolean }) => {
  if (m.cpu) {
    const used = process.cpuUsage();
    send({ userMicros: used.user, systemMicros: used.system });
  }
  if (m.policyReset) {
    ctx.metrics.getSingleMetric(POLICY_DECISION_METRIC)?.reset();
    send({ policyReset: true });
  }
  if (m.policy) void decisions().then((d) => send({ policy: true, ...d }));
  if (m.rss) void readMemory().then(send);
  if (m.stop) void stop();
});
// The parent going away stops the server too (bounded: never left running).
process.on('disconnect', () => void stop());
send({ ready: true, udpPort: sip.udp.port, rssBytes: process.memoryUsage().rss, provisionSeconds });
