/**
 * The measured run of the in-process SIP benchmarks (bench/sip-call-cpu.ts; fit for
 * sip-register-cpu.ts too): process CPU (`process.cpuUsage`), main thread and other
 * threads, the PostgreSQL backends' CPU (none on PGlite), garbage collections from
 * `perf_hooks` — young-generation collections each follow a semi-space's worth of
 * allocation, so their count per operation is an allocation figure that the machine's load
 * does not move (issue #4) — and, with `allocFile`, V8's sampling heap profile of the run,
 * garbage included (bench/sip/alloc.ts reads it; the CPU figures are then not comparable);
 * BENCH_ALLOC_SURVIVORS=1 leaves out what the young generation's collections freed.
 */
import { sql } from 'drizzle-orm';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import type { Database } from '../../src/db/client.ts';
import { cpuOf } from '../proc.ts';
import { benchBackendPids, threadCpu } from './register-rig.ts';

export interface RunFigures {
  readonly seconds: number;
  /** µs, as `process.cpuUsage` gives them. */
  readonly user: number;
  readonly system: number;
  /** CPU seconds of the main thread and of the other threads. */
  readonly mainThread: number;
  readonly otherThreads: number;
  /** CPU seconds of the PostgreSQL backends, and how many there were (0 on PGlite). */
  readonly database: number;
  readonly backends: number;
  /** Transactions committed in the bench database during the run (PostgreSQL's statistics; null on PGlite). */
  readonly commits: number | null;
  readonly gc: { minor: number; major: number; ms: number; minorMs: number };
  /** Load average before → after. */
  readonly load: string;
}

const loadNow = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export async function measureRun(database: Database, run: () => Promise<void>, allocFile?: string): Promise<RunFigures> {
  const before = loadNow();
  const backendPids = await benchBackendPids(database);
  const db0 = cpuOf(backendPids);
  const commits0 = await commitsOf(database);
  const threads0 = threadCpu();
  const gc = { minor: 0, major: 0, ms: 0, minorMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) {
        gc.minor++;
        gc.minorMs += e.duration;
      } else gc.major++;
      gc.ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const session = allocFile ? new Session() : undefined;
  if (session) {
    session.connect();
    // BENCH_ALLOC_SURVIVORS=1: without what young-generation collections freed — what survived
    // one, was copied and most likely promoted (the scavenges' cost), still alive or freed later.
    const survivorsOnly = process.env.BENCH_ALLOC_SURVIVORS === '1';
    await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivorsOnly });
  }
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run();
  const cpu = process.cpuUsage(cpu0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // The observer hears of the last collections a turn later.
  await new Promise((r) => setImmediate(r));
  observer.disconnect();
  const dbCpu = cpuOf(backendPids) - db0;
  const commits1 = await commitsOf(database);
  const threads = threadCpu();
  if (session && allocFile) writeFileSync(allocFile, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
  return {
    seconds,
    user: cpu.user,
    system: cpu.system,
    mainThread: threads.main - threads0.main,
    otherThreads: threads.others - threads0.others,
    database: dbCpu,
    backends: backendPids.length,
    commits: commits0 === null || commits1 === null ? null : commits1 - commits0,
    gc,
    load: `${before} → ${loadNow()}`,
  };
}

/**
 * The bench database's committed transactions. A backend reports its counts when idle, at most
 * once a second (PostgreSQL 15): wait past that, then read them fresh — a few commits of the
 * run's edges, against thousands in it.
 */
async function commitsOf(database: Database): Promise<number | null> {
  if (database.kind !== 'postgres') return null;
  await new Promise((r) => setTimeout(r, 1100));
  await database.db.execute(sql`SELECT pg_stat_clear_snapshot()`);
  const result = await database.db.execute(sql`SELECT xact_commit::float8 AS n FROM pg_stat_database WHERE datname = current_database()`);
  return (result as { rows: { n: number }[] }).rows[0]!.n;
}

/** The figures per operation, as text lines (CPU, GC, load). */
export function perOperation(f: RunFigures, n: number, what: string): string[] {
  const ms = (x: number): string => x.toFixed(3);
  return [
    `  CPU per ${what}: ${ms((f.user + f.system) / 1000 / n)} ms (user ${ms(f.user / 1000 / n)}, system ${ms(f.system / 1000 / n)})` +
      `; main thread ${ms((1000 * f.mainThread) / n)} ms, other threads ${ms((1000 * f.otherThreads) / n)} ms` +
      (f.backends > 0 ? `; PostgreSQL backends ${ms((1000 * f.database) / n)} ms (${f.backends} connections)` : '') +
      (f.commits === null ? '' : `; ${(f.commits / n).toFixed(3)} transactions committed per ${what}`),
    `  GC: ${((1000 * f.gc.minor) / n).toFixed(2)} young-generation and ${((1000 * f.gc.major) / n).toFixed(2)} other collections per 1 000, ` +
      `${((1000 * f.gc.ms) / n).toFixed(1)} µs of pauses per ${what} (young ${((1000 * f.gc.minorMs) / n).toFixed(1)})`,
    `  load average ${f.load}`,
  ];
}
