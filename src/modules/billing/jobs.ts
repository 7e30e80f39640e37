/**
 * The billing run job (§8.1): checked every day at 00:00 local after the daily jobs, it
 * runs on the billing day (setting, default 28) — a daily check so that the setting can
 * change without redefining the schedule.
 */
import type { AppContext } from '../../context.ts';
import type { JobDefinition } from '../../scheduler/runner.ts';
import { localDate } from '../../kernel/time.ts';
import { billingDayOf } from './billing-day.ts';
import { runBilling, runConcurrencyFor } from './billing-run.ts';

export function billingRunJob(ctx: AppContext, order: number): JobDefinition {
  return {
    name: 'billing-run',
    schedule: { kind: 'daily' },
    order,
    async run(job) {
      const day = Number(localDate(job.dueAt).slice(8, 10));
      if (day !== (await billingDayOf(job.db))) return;
      await runBilling({ db: job.db, at: job.dueAt, cursor: job.cursor, saveCursor: job.saveCursor, concurrency: runConcurrencyFor(ctx.database.kind) });
      ctx.log.info({ period: job.period }, 'billing run done');
    },
  };
}
