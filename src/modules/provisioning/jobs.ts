import type { AppContext } from '../../context.ts';
import type { JobDefinition } from '../../scheduler/runner.ts';
import { runNumberExpiries } from './number-expiries.ts';

/** Daily at 00:00 Brussels: §8.6 pending releases, §3.6 reservation expiries, end of quarantines. */
export function numberExpiriesJob(ctx: AppContext, order: number): JobDefinition {
  return {
    name: 'number-expiries',
    schedule: { kind: 'daily' },
    order,
    async run(job) {
      const result = await runNumberExpiries(job.db, job.dueAt);
      const changed = result.released.length + result.reservationsExpired.length + result.quarantineEnded.length;
      if (changed > 0) ctx.log.info({ job: 'number-expiries', period: job.period, ...result }, 'number expiries');
    },
  };
}
