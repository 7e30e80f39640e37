import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per (job, period): the period key makes a run unique ("2027-01-28" for a
 * daily job, "2027-01" for a monthly one), so a job never runs twice for a period.
 * A row is `running` while a scheduler holds its lease; `done` rows are never run again.
 * (`pending` only exists inside the claim transaction, between the insert and the claim.)
 */
export const jobRuns = pgTable(
  'job_runs',
  {
    job: text('job').notNull(),
    period: text('period').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    status: text('status', { enum: ['pending', 'running', 'done', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    lastError: text('last_error'),
    /** Progress a long job records to resume after a crash (e.g. last client id of a billing run). */
    cursor: text('cursor'),
    /** The scheduler instance running the current attempt: only it may extend the lease or finish the run. */
    runner: text('runner'),
    /** A `running` row whose lease has passed belongs to a dead process and may be claimed again. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.job, t.period] })],
);
