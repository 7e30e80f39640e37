import type { AppContext } from '../context.ts';
import { runContractTerms } from '../modules/customers/contract-terms-job.ts';
import { pruneAuthState } from '../modules/identity/prune.ts';
import { numberExpiriesJob } from '../modules/provisioning/jobs.ts';
import { billingRunJob } from '../modules/billing/index.ts';
import { dunningJob } from '../modules/payments/index.ts';
import type { JobDefinition } from './runner.ts';

/** Order of jobs due at the same instant: the daily rules first, the billing run after them. */
export const JOB_ORDER = { housekeeping: 0, daily: 10, billingRun: 100 } as const;

/** Every scheduled job of the platform; modules add theirs here. */
export function jobDefinitions(ctx: AppContext): JobDefinition[] {
  return [
    {
      // Forget ended sessions and login failures too old to count (identity).
      name: 'housekeeping',
      schedule: { kind: 'daily' },
      order: JOB_ORDER.housekeeping,
      async run() {
        await pruneAuthState(ctx);
      },
    },
    {
      // §11.4 tacit renewal on the day after the term ends; end of notice periods (§13.1).
      name: 'contract-terms',
      schedule: { kind: 'daily' },
      order: JOB_ORDER.daily,
      async run(job) {
        await runContractTerms(ctx, job.dueAt);
      },
    },
    numberExpiriesJob(ctx, JOB_ORDER.daily),
    // Dunning and suspension (§5.2, §8.8, §9.1a/b, §12.2a), before the billing run.
    dunningJob(ctx, JOB_ORDER.daily),
    // §8.1 the billing run, on the billing day after the daily jobs.
    billingRunJob(ctx, JOB_ORDER.billingRun),
  ];
}
