/**
 * Runs the scheduled jobs (ARCHITECTURE.md "Jobs"; SCENARIOS.md "Time").
 *
 * Rules:
 * - One `job_runs` row per (job, period). A run is claimed in a short transaction
 *   (`INSERT … ON CONFLICT DO NOTHING`, then `SELECT … FOR UPDATE SKIP LOCKED`) that marks it
 *   `running` under a lease held by this attempt; the lease is extended while the job runs
 *   (heartbeat, and every `saveCursor`). A `done` row is never run again, so a period runs
 *   once even with several scheduler processes on one database.
 * - A `running` row whose lease has passed belongs to a process that died: it is claimed again
 *   and its job resumes from the saved cursor. A lost lease (another process took over) makes
 *   `saveCursor` throw, and the late finish is refused.
 * - Due runs are processed one at a time in one global order: due instant, then the job's
 *   `order`, then its name. The first run that does not complete stops the pass: a job that
 *   throws is recorded `failed` and retried at the next `runDue`, and nothing due after it —
 *   of any job — runs before it succeeds, because later business rules rely on earlier ones
 *   (the billing run needs that day's dunning). The same holds when another process is running
 *   it: that process carries on from there.
 * - Every attempt counts (a crash too). After `maxAttempts` the run stays `failed`, every pass
 *   logs it at error level and stops there: an operator must fix the cause and reset the row
 *   (`attempts = 0`) for the schedule to move on.
 * - Where a job starts: after its last `done` run; at its earliest unfinished run if any; for a
 *   job that never ran, at `since` (default: the clock when the scheduler is created).
 */
import { randomUUID } from 'node:crypto';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Clock } from '../kernel/clock.ts';
import { dueOccurrences, nextOccurrence, validateSchedule, type Occurrence, type Schedule } from './schedule.ts';
import { jobRuns } from './schema.ts';

export interface JobContext {
  /** `YYYY-MM-DD` (daily) or `YYYY-MM` (monthly). */
  readonly period: string;
  /** The instant the run was due: the job's "now" for business rules, whatever the clock says. */
  readonly dueAt: Date;
  readonly db: Db;
  /** The progress saved by an earlier attempt of this run; null on the first. */
  readonly cursor: string | null;
  /** Persists progress (and extends the lease); throws when this attempt lost its lease. */
  readonly saveCursor: (cursor: string) => Promise<void>;
}

export interface JobDefinition {
  /** Unique; the key of its runs in `job_runs`. */
  readonly name: string;
  readonly schedule: Schedule;
  /** Among jobs due at the same instant, lower runs first (daily jobs before the billing run). */
  readonly order: number;
  run(ctx: JobContext): Promise<void>;
}

export type SchedulerLog = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface SchedulerOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: SchedulerLog;
  readonly jobs: readonly JobDefinition[];
  /** A job that never ran starts with its occurrences at or after `since` (default: the clock now). */
  readonly since?: Date;
  /** Attempts per run, crashes included, before it stays failed (default 3). */
  readonly maxAttempts?: number;
  /** How long a claim stays valid without a heartbeat (default 5 minutes). */
  readonly leaseMs?: number;
}

export interface RunRef {
  readonly job: string;
  readonly period: string;
}

export interface RunDueResult {
  /** The runs this call completed, in the order they ran. */
  readonly completed: readonly RunRef[];
  /**
   * The run the pass stopped at, if any: `failed` (it threw; retried next time), `gave-up`
   * (failed `maxAttempts` times) or `busy` (another process is running it).
   */
  readonly stoppedAt?: RunRef & { readonly reason: 'failed' | 'gave-up' | 'busy' };
}

export interface Scheduler {
  /** Runs every run due at or before `upTo` (default: the clock now) that has not completed. */
  runDue(upTo?: Date): Promise<RunDueResult>;
  /** The first instant strictly after `after` at which a job is due. */
  nextDueAt(after: Date): Date | undefined;
  /** Production: runs what is due now, then at each due instant and at least every minute. */
  start(): void;
  /** Stops the timer; resolves once the job running (if any) has finished; later jobs wait. */
  stop(): Promise<void>;
}

const SAFETY_NET_MS = 60_000;

class LeaseLostError extends Error {
  constructor(run: RunRef) {
    super(`lost the lease on ${run.job} ${run.period}: another scheduler took it over`);
    this.name = 'LeaseLostError';
  }
}

interface DueRun extends Occurrence {
  readonly job: JobDefinition;
}

type Stop = NonNullable<RunDueResult['stoppedAt']>;

type Claim =
  | { readonly kind: 'claimed'; readonly token: string; readonly attempt: number; readonly cursor: string | null }
  | { readonly kind: 'done' }
  | { readonly kind: 'busy' }
  | { readonly kind: 'gave-up'; readonly attempts: number; readonly lastError: string | null };

/** An aggregate of `due_at` (null over no rows), decoded like the column. */
const instantOrNull = (aggregate: SQL): SQL<Date | null> => aggregate.mapWith(jobRuns.dueAt);

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { db, clock, log, jobs } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be a positive integer');
  if (!Number.isInteger(leaseMs) || leaseMs < 1000) throw new RangeError('leaseMs must be an integer of at least 1000');
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`two jobs are named ${job.name}`);
    names.add(job.name);
    validateSchedule(job.schedule);
  }
  // `since` is inclusive; occurrences are searched strictly after a bound (millisecond instants).
  const beforeSince = new Date((options.since ?? clock.now()).getTime() - 1);

  const runKey = (run: RunRef) => and(eq(jobRuns.job, run.job), eq(jobRuns.period, run.period));
  const ownedKey = (run: RunRef, token: string) =>
    and(runKey(run), eq(jobRuns.runner, token), eq(jobRuns.status, 'running'));
  const leaseEnd = () => new Date(clock.now().getTime() + leaseMs);

  /** Per job, the bound after which its runs are searched. */
  async function startingPoints(): Promise<Map<string, Date>> {
    const rows = await db
      .select({
        job: jobRuns.job,
        lastDone: instantOrNull(sql`max(${jobRuns.dueAt}) filter (where ${jobRuns.status} = 'done')`),
        firstUnfinished: instantOrNull(sql`min(${jobRuns.dueAt}) filter (where ${jobRuns.status} <> 'done')`),
      })
      .from(jobRuns)
      .groupBy(jobRuns.job);
    const starts = new Map<string, Date>();
    for (const { job, lastDone, firstUnfinished } of rows) {
      const candidates = [lastDone, firstUnfinished && new Date(firstUnfinished.getTime() - 1)].filter((d) => d !== null);
      if (candidates.length > 0) starts.set(job, new Date(Math.min(...candidates.map((d) => d.getTime()))));
    }
    return starts;
  }

  async function claim(run: DueRun): Promise<Claim> {
    const ref = { job: run.job.name, period: run.period };
    const now = clock.now();
    return db.transaction(async (tx): Promise<Claim> => {
      await tx.insert(jobRuns).values({ ...ref, dueAt: run.dueAt, status: 'pending' }).onConflictDoNothing();
      const [row] = await tx.select().from(jobRuns).where(runKey(ref)).for('update', { skipLocked: true });
      if (!row) return { kind: 'busy' }; // another process is claiming it right now
      if (row.status === 'done') return { kind: 'done' };
      const crashed = row.status === 'running';
      if (crashed && row.leaseUntil !== null && row.leaseUntil > now) return { kind: 'busy' };
      const lastError = crashed ? `attempt ${row.attempts} stopped without finishing (lease expired)` : row.lastError;
      if (row.attempts >= maxAttempts) {
        if (crashed) {
          await tx
            .update(jobRuns)
            .set({ status: 'failed', finishedAt: now, lastError, runner: null, leaseUntil: null })
            .where(runKey(ref));
        }
        return { kind: 'gave-up', attempts: row.attempts, lastError };
      }
      const token = randomUUID();
      const attempt = row.attempts + 1;
      await tx
        .update(jobRuns)
        .set({ status: 'running', attempts: attempt, startedAt: now, finishedAt: null, lastError, runner: token, leaseUntil: leaseEnd() })
        .where(runKey(ref));
      return { kind: 'claimed', token, attempt, cursor: row.cursor };
    });
  }

  /** Updates the run if this attempt still holds it; false when the lease was lost. */
  async function updateOwned(ref: RunRef, token: string, values: Partial<typeof jobRuns.$inferInsert>): Promise<boolean> {
    const updated = await db.update(jobRuns).set(values).where(ownedKey(ref, token)).returning({ job: jobRuns.job });
    return updated.length > 0;
  }

  /** Runs one due run: `ran` now, `done` before, or why the pass must stop here. */
  async function execute(run: DueRun): Promise<'ran' | 'done' | Stop> {
    const ref = { job: run.job.name, period: run.period };
    const claimed = await claim(run);
    if (claimed.kind === 'done') return 'done';
    if (claimed.kind === 'busy') return { ...ref, reason: 'busy' };
    if (claimed.kind === 'gave-up') {
      log.error(
        { ...ref, attempts: claimed.attempts, lastError: claimed.lastError },
        'scheduled job gave up: it and every job due after it are halted until the run is fixed and reset',
      );
      return { ...ref, reason: 'gave-up' };
    }
    const { token, attempt } = claimed;
    log.info({ ...ref, attempt, resumeFrom: claimed.cursor }, 'scheduled job started');
    const heartbeat = setInterval(() => {
      updateOwned(ref, token, { leaseUntil: leaseEnd() }).then(
        (owned) => {
          if (!owned) log.error(ref, 'scheduled job lost its lease while running');
        },
        (e: unknown) => log.warn({ ...ref, err: e }, 'scheduled job heartbeat failed'),
      );
    }, Math.floor(leaseMs / 3));
    heartbeat.unref();
    let failure: unknown;
    try {
      await run.job.run({
        period: run.period,
        dueAt: run.dueAt,
        db,
        cursor: claimed.cursor,
        saveCursor: async (cursor: string) => {
          if (!(await updateOwned(ref, token, { cursor, leaseUntil: leaseEnd() }))) throw new LeaseLostError(ref);
        },
      });
    } catch (e) {
      failure = e ?? new Error('job threw a nullish value');
    } finally {
      clearInterval(heartbeat);
    }
    const finishedAt = clock.now();
    if (failure === undefined) {
      if (await updateOwned(ref, token, { status: 'done', finishedAt, runner: null, leaseUntil: null })) {
        log.info({ ...ref, attempt }, 'scheduled job done');
        return 'ran';
      }
      log.error(ref, 'scheduled job finished after losing its lease; another scheduler owns the run');
      return { ...ref, reason: 'busy' };
    }
    const lastError = errorMessage(failure);
    await updateOwned(ref, token, { status: 'failed', finishedAt, lastError, runner: null, leaseUntil: null });
    if (attempt >= maxAttempts) {
      log.error({ ...ref, attempt, err: failure }, 'scheduled job failed for the last time: the schedule is halted here');
    } else {
      log.warn({ ...ref, attempt, maxAttempts, err: failure }, 'scheduled job failed; retried at the next pass');
    }
    return { ...ref, reason: 'failed' };
  }

  let stopRequested = false;

  async function runPass(upTo: Date): Promise<RunDueResult> {
    const starts = await startingPoints();
    const due: DueRun[] = jobs
      .flatMap((job) => dueOccurrences(job.schedule, starts.get(job.name) ?? beforeSince, upTo).map((o) => ({ job, ...o })))
      .sort(
        (a, b) =>
          a.dueAt.getTime() - b.dueAt.getTime() || a.job.order - b.job.order || (a.job.name < b.job.name ? -1 : 1),
      );
    const completed: RunRef[] = [];
    for (const run of due) {
      if (stopRequested) break;
      const outcome = await execute(run);
      if (outcome === 'ran') completed.push({ job: run.job.name, period: run.period });
      else if (outcome !== 'done') return { completed, stoppedAt: outcome };
    }
    return { completed };
  }

  // One pass at a time per scheduler: the timer and explicit calls queue behind each other.
  let queue: Promise<unknown> = Promise.resolve();
  function runDue(upTo?: Date): Promise<RunDueResult> {
    const pass = queue.then(() => runPass(upTo ?? clock.now()));
    queue = pass.catch(() => undefined);
    return pass;
  }

  function nextDueAt(after: Date): Date | undefined {
    const times = jobs.map((job) => nextOccurrence(job.schedule, after).dueAt.getTime());
    return times.length > 0 ? new Date(Math.min(...times)) : undefined;
  }

  let timer: NodeJS.Timeout | undefined;
  let started = false;

  async function tick(): Promise<void> {
    timer = undefined;
    const upTo = clock.now();
    try {
      await runDue(upTo);
    } catch (e) {
      log.error({ err: e }, 'scheduler pass failed');
    }
    if (!started) return;
    // The next instant after what this pass covered: at once if it already passed during the pass.
    const next = nextDueAt(upTo);
    const wait = next ? next.getTime() - clock.now().getTime() : SAFETY_NET_MS;
    timer = setTimeout(() => void tick(), Math.min(Math.max(wait, 0), SAFETY_NET_MS));
  }

  return {
    runDue,
    nextDueAt,
    start() {
      if (started) return;
      started = true;
      void tick();
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      timer = undefined;
      stopRequested = true;
      try {
        await queue;
      } finally {
        stopRequested = false;
      }
    },
  };
}
