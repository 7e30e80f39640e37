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
  readonly gc: { minor: number; major: number; ms: number; minorMs: number };
  /** Load average before → after. */
  readonly load: string;
}

const loadNow = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export async function measureRun(database: Database, run: () => Promise<void>, allocFile?: string): Promise<RunFigures> {
  const before = loadNow();
  const backendPids = await benchBackendPids(database);
  const db0 = cpuOf(backendPids);
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
    gc,
    load: `${before} → ${loadNow()}`,
  };
}

/** The figures per operation, as text lines (CPU, GC, load). */
export function perOperation(f: RunFigures, n: number, what: string): string[] {
  const ms = (x: number): string => x.toFixed(3);
  return [
    `  CPU per ${what}: ${ms((f.user + f.system) / 1000 / n)} ms (user ${ms(f.user / 1000 / n)}, system ${ms(f.system / 1000 / n)})` +
      `; main thread ${ms((1000 * f.mainThread) / n)} ms, other threads ${ms((1000 * f.otherThreads) / n)} ms` +
      (f.backends > 0 ? `; PostgreSQL backends ${ms((1000 * f.database) / n)} ms (${f.backends} connections)` : ''),
    `  GC: ${((1000 * f.gc.minor) / n).toFixed(2)} young-generation and ${((1000 * f.gc.major) / n).toFixed(2)} other collections per 1 000, ` +
      `${((1000 * f.gc.ms) / n).toFixed(1)} µs of pauses per ${what} (young ${((1000 * f.gc.minorMs) / n).toFixed(1)})`,
    `  load average ${f.load}`,
  ];
}
