import { and, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import { openDatabase, type Database, type Db } from '../db/client.ts';
import { SimulatedClock } from '../kernel/clock.ts';
import { addDays } from '../kernel/time.ts';
import { createScheduler, type JobDefinition, type SchedulerOptions } from './runner.ts';
import { jobRuns } from './schema.ts';

const at = (iso: string) => new Date(iso);
const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

interface LogLine {
  level: number;
  msg: string;
}

/** Records `job:period` for every run; `fail` decides whether a run throws. */
function recorder(fail: (job: string, period: string, attempt: number) => boolean = () => false) {
  const runs: string[] = [];
  const attempts = new Map<string, number>();
  const job = (name: string, schedule: JobDefinition['schedule'], order: number): JobDefinition => ({
    name,
    schedule,
    order,
    async run({ period }) {
      const key = `${name}:${period}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      await yieldToOthers();
      if (fail(name, period, attempt)) throw new Error(`${key} broke`);
      runs.push(key);
    },
  });
  return { runs, attempts, jobs: [job('dunning', { kind: 'daily' }, 10), job('billing', { kind: 'monthly', day: 15 }, 20)] };
}

/** The runs expected from `first` to `last` (local dates), daily jobs first on the 15th. */
function expectedRuns(first: string, last: string): string[] {
  const runs: string[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) {
    runs.push(`dunning:${d}`);
    if (d.endsWith('-15')) runs.push(`billing:${d.slice(0, 7)}`);
  }
  return runs;
}

describeEachDb('scheduler', (kind) => {
  let database: Database;
  let db: Db;
  let url: string | undefined;
  let drop: () => Promise<void>;
  let clock: SimulatedClock;
  let logs: LogLine[];
  const log = () => pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s) as LogLine) });
  const scheduler = (jobs: JobDefinition[], extra: Partial<SchedulerOptions> = {}) =>
    createScheduler({ db, clock, log: log(), jobs, since: at('2027-01-13T10:00:00+01:00'), ...extra });
  const row = async (job: string, period: string) =>
    (await db.select().from(jobRuns).where(and(eq(jobRuns.job, job), eq(jobRuns.period, period))))[0];

  beforeEach(async () => {
    ({ database, url, drop } = await migratedTestDatabase(kind));
    db = database.db;
    clock = new SimulatedClock('2027-01-13T10:00:00+01:00');
    logs = [];
  });
  afterEach(async () => {
    await drop();
  });

  it('runs each due period once, the job due exactly at the target included', async () => {
    const { runs, jobs } = recorder();
    const s = scheduler(jobs);
    clock.set(at('2027-01-15T00:00:00+01:00'));
    const result = await s.runDue();
    expect(runs).toEqual(['dunning:2027-01-14', 'dunning:2027-01-15', 'billing:2027-01']);
    expect(result).toEqual({
      completed: [
        { job: 'dunning', period: '2027-01-14' },
        { job: 'dunning', period: '2027-01-15' },
        { job: 'billing', period: '2027-01' },
      ],
    });
    expect(await s.runDue()).toEqual({ completed: [] });
    clock.set(at('2027-01-16T09:00:00+01:00'));
    await s.runDue();
    expect(runs).toEqual(expectedRuns('2027-01-14', '2027-01-16'));
    expect(await row('billing', '2027-01')).toMatchObject({
      status: 'done',
      attempts: 1,
      dueAt: at('2027-01-15T00:00:00+01:00'),
      startedAt: at('2027-01-15T00:00:00+01:00'),
      finishedAt: at('2027-01-15T00:00:00+01:00'),
      runner: null,
      leaseUntil: null,
    });
  });

  it('`since` is inclusive: a job due exactly at the start runs', async () => {
    const { runs, jobs } = recorder();
    await scheduler(jobs, { since: at('2027-01-14T00:00:00+01:00') }).runDue(at('2027-01-14T00:00:00+01:00'));
    expect(runs).toEqual(['dunning:2027-01-14']);
  });

  it('catches up missed days in time order, daily jobs before the billing run on the billing day', async () => {
    const { runs, jobs } = recorder();
    clock.set(at('2027-03-16T09:00:00+01:00'));
    const result = await scheduler(jobs).runDue();
    expect(runs).toEqual(expectedRuns('2027-01-14', '2027-03-16'));
    expect(result.completed.map((r) => `${r.job}:${r.period}`)).toEqual(runs);
    expect(runs.indexOf('billing:2027-02')).toBe(runs.indexOf('dunning:2027-02-15') + 1);
  });

  it('a restarted scheduler never re-runs a completed period, whatever its `since`', async () => {
    const { runs, jobs } = recorder();
    await scheduler(jobs).runDue(at('2027-01-16T09:00:00+01:00'));
    await scheduler(jobs, { since: at('2027-01-01T00:00:00+01:00') }).runDue(at('2027-01-18T09:00:00+01:00'));
    await scheduler(jobs, { since: at('2027-01-18T09:00:00+01:00') }).runDue(at('2027-01-18T09:00:00+01:00'));
    expect(runs).toEqual(expectedRuns('2027-01-14', '2027-01-18'));
  });

  it('a job that throws is recorded failed, nothing due after it runs, and the next pass retries it', async () => {
    const { runs, jobs } = recorder((job, period, attempt) => job === 'dunning' && period === '2027-01-15' && attempt === 1);
    const s = scheduler(jobs);
    clock.set(at('2027-01-17T09:00:00+01:00'));
    expect(await s.runDue()).toEqual({
      completed: [{ job: 'dunning', period: '2027-01-14' }],
      stoppedAt: { job: 'dunning', period: '2027-01-15', reason: 'failed' },
    });
    expect(await row('dunning', '2027-01-15')).toMatchObject({ status: 'failed', attempts: 1, lastError: 'dunning:2027-01-15 broke' });
    expect(await row('billing', '2027-01')).toBeUndefined();
    expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['scheduled job failed; retried at the next pass']);

    await s.runDue();
    expect(runs).toEqual(expectedRuns('2027-01-14', '2027-01-17'));
    expect(await row('dunning', '2027-01-15')).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('after maxAttempts a run stays failed, is logged loudly at every pass, and halts the schedule', async () => {
    const { runs, attempts, jobs } = recorder((job) => job === 'billing');
    const s = scheduler(jobs, { maxAttempts: 2 });
    clock.set(at('2027-01-17T09:00:00+01:00'));
    for (let pass = 0; pass < 4; pass++) await s.runDue();
    expect(attempts.get('billing:2027-01')).toBe(2);
    expect(runs).toEqual(['dunning:2027-01-14', 'dunning:2027-01-15']);
    expect(await row('billing', '2027-01')).toMatchObject({ status: 'failed', attempts: 2 });
    expect(await s.runDue()).toMatchObject({ stoppedAt: { job: 'billing', period: '2027-01', reason: 'gave-up' } });
    const errors = logs.filter((l) => l.level === 50).map((l) => l.msg);
    expect(errors[0]).toMatch(/failed for the last time/);
    expect(errors.slice(1)).toHaveLength(3);
    expect(errors.slice(1).every((m) => m.includes('gave up'))).toBe(true);
  });

  it('a run left `running` by a dead process is taken over once its lease has expired, from its cursor', async () => {
    const cursors: (string | null)[] = [];
    const billing: JobDefinition = {
      name: 'billing',
      schedule: { kind: 'monthly', day: 15 },
      order: 20,
      run: async ({ cursor }) => {
        cursors.push(cursor);
        await Promise.resolve();
      },
    };
    const dueAt = at('2027-01-15T00:00:00+01:00');
    await db.insert(jobRuns).values({
      job: 'billing',
      period: '2027-01',
      dueAt,
      status: 'running',
      attempts: 1,
      startedAt: dueAt,
      cursor: 'client-42',
      runner: 'dead-process',
      leaseUntil: at('2027-01-15T00:05:00+01:00'),
    });
    const s = scheduler([billing]);
    clock.set(at('2027-01-15T00:04:59+01:00'));
    expect(await s.runDue()).toEqual({ completed: [], stoppedAt: { job: 'billing', period: '2027-01', reason: 'busy' } });
    expect(cursors).toEqual([]);

    clock.set(at('2027-01-15T00:05:01+01:00'));
    expect(await s.runDue()).toEqual({ completed: [{ job: 'billing', period: '2027-01' }] });
    expect(cursors).toEqual(['client-42']);
    expect(await row('billing', '2027-01')).toMatchObject({ status: 'done', attempts: 2, lastError: expect.stringMatching(/lease expired/) as unknown });
    await s.runDue(at('2027-02-01T00:00:00+01:00'));
    expect(cursors).toHaveLength(1);
  });

  it('saves the cursor and gives it back to the retry, which resumes where the failed attempt stopped', async () => {
    const processed: number[] = [];
    let attempt = 0;
    const billing: JobDefinition = {
      name: 'billing',
      schedule: { kind: 'monthly', day: 15 },
      order: 20,
      async run({ cursor, saveCursor }) {
        attempt++;
        for (let client = cursor === null ? 1 : Number(cursor) + 1; client <= 5; client++) {
          if (attempt === 1 && client === 4) throw new Error('database went away');
          processed.push(client);
          await saveCursor(String(client));
        }
      },
    };
    const s = scheduler([billing]);
    clock.set(at('2027-01-15T00:00:00+01:00'));
    await s.runDue();
    expect(await row('billing', '2027-01')).toMatchObject({ status: 'failed', cursor: '3' });
    await s.runDue();
    expect(processed).toEqual([1, 2, 3, 4, 5]);
    expect(await row('billing', '2027-01')).toMatchObject({ status: 'done', cursor: '5', attempts: 2 });
  });

  it('an attempt that lost its lease cannot save progress nor finish the run', async () => {
    let saveError: unknown;
    const billing: JobDefinition = {
      name: 'billing',
      schedule: { kind: 'monthly', day: 15 },
      order: 20,
      async run({ saveCursor }) {
        // Another scheduler took the run over (as if this one had stalled past its lease).
        await db.update(jobRuns).set({ runner: 'other-process' });
        saveError = await saveCursor('7').catch((e: unknown) => e);
      },
    };
    const result = await scheduler([billing]).runDue(at('2027-01-15T00:00:00+01:00'));
    expect(saveError).toMatchObject({ name: 'LeaseLostError' });
    expect(result.stoppedAt).toEqual({ job: 'billing', period: '2027-01', reason: 'busy' });
    expect(await row('billing', '2027-01')).toMatchObject({ status: 'running', runner: 'other-process', cursor: null });
  });

  it('two schedulers on the same database run each period once', async () => {
    // On PostgreSQL the second scheduler has its own connection pool, as another process would.
    const second = url ? await openDatabase({ url }) : undefined;
    try {
      const counts = new Map<string, number>();
      const { jobs } = recorder((job, period) => {
        counts.set(`${job}:${period}`, (counts.get(`${job}:${period}`) ?? 0) + 1);
        return false;
      });
      const a = scheduler(jobs);
      const b = createScheduler({ db: second?.db ?? db, clock, log: log(), jobs, since: at('2027-01-13T10:00:00+01:00') });
      for (const target of ['2027-01-20T09:00:00+01:00', '2027-02-16T09:00:00+01:00', '2027-03-20T09:00:00+01:00']) {
        clock.set(at(target));
        const results = await Promise.all([a.runDue(), b.runDue()]);
        for (const r of results) expect(r.stoppedAt?.reason ?? 'busy').toBe('busy');
        // Between them, they ran every run due, in order.
        const done = results.flatMap((r) => r.completed.map((c) => `${c.job}:${c.period}`));
        expect(new Set(done).size).toBe(done.length);
      }
      const expected = expectedRuns('2027-01-14', '2027-03-20');
      expect([...counts.keys()].sort()).toEqual([...expected].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      const rows = await db.select().from(jobRuns);
      expect(rows).toHaveLength(expected.length);
      expect(rows.every((r) => r.status === 'done' && r.attempts === 1)).toBe(true);
    } finally {
      await second?.close();
    }
  });

  it('start() runs what is due, then wakes up at the next due instant; stop() ends cleanly', async () => {
    const ran: string[] = [];
    let wake: () => void = () => undefined;
    const dunning: JobDefinition = {
      name: 'dunning',
      schedule: { kind: 'daily' },
      order: 10,
      run: async ({ period }) => {
        ran.push(period);
        await Promise.resolve();
        wake();
      },
    };
    const s = scheduler([dunning]);
    clock.set(at('2027-01-14T23:59:59.995+01:00'));
    const caughtUp = new Promise<void>((resolve) => (wake = resolve));
    s.start();
    await caughtUp;
    expect(ran).toEqual(['2027-01-14']);
    const nextDay = new Promise<void>((resolve) => (wake = resolve));
    clock.advance(5); // the timer set for the next midnight (≤ 5 ms away) finds it due
    await nextDay;
    await s.stop();
    expect(ran).toEqual(['2027-01-14', '2027-01-15']);
    expect(s.nextDueAt(clock.now())).toEqual(at('2027-01-16T00:00:00+01:00'));
  });
});
