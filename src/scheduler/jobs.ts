import type { AppContext } from '../context.ts';
import { pruneAuthState } from '../modules/identity/prune.ts';
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
  ];
}
