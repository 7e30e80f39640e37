/** The dunning job (RULES.md "Dunning and suspension"): every day at 00:00 local, before the billing run. */
import type { AppContext } from '../../context.ts';
import type { JobDefinition } from '../../scheduler/runner.ts';
import { runDunning } from './run-dunning.ts';

export function dunningJob(ctx: AppContext, order: number): JobDefinition {
  return {
    name: 'dunning',
    schedule: { kind: 'daily' },
    order,
    async run(job) {
      await runDunning(job.db, job.dueAt);
      ctx.log.debug({ period: job.period }, 'dunning evaluated');
    },
  };
}
