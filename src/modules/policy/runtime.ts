/**
 * The call policy of a SIP node as the configuration asks (issue #7, docs/operator-guide.md
 * "Call policy"): where the §4.3b/§4.10 live counters live (`memory`, `redis`, `database`),
 * the §4.10 minute sweep of the spend of calls in progress, and the hourly purge of old
 * decisions (retention.ts).
 */
import type { ChangeFeed } from '../../db/changes.ts';
import type { Db } from '../../db/client.ts';
import type { Clock } from '../../kernel/clock.ts';
import { memoryAdmissionStore, type AdmissionStore } from './admission-store.ts';
import { dbCallPolicy, sweepLiveSpend, type DbCallPolicy } from './db-call-policy.ts';
import { fastCallPolicy } from './fast-call-policy.ts';
import { redisAdmissionStore, type RedisAdmissionStore } from './redis-admission-store.ts';
import { purgeDecisions } from './retention.ts';

export interface PolicyRuntimeOptions {
  db: Db;
  clock: Clock;
  counters: 'memory' | 'redis' | 'database';
  redisUrl: string | undefined;
  nodeId: string;
  retentionDays: number;
  /** Needed by the `memory` and `redis` modes (the facts cache's change notices). */
  changes: ChangeFeed;
  onError: (what: string, e: unknown) => void;
}

export interface PolicyRuntime {
  readonly policy: DbCallPolicy;
  close(): Promise<void>;
}

export async function startCallPolicy(o: PolicyRuntimeOptions): Promise<PolicyRuntime> {
  const { db, clock } = o;
  let store: AdmissionStore | null = null;
  let redis: RedisAdmissionStore | null = null;
  if (o.counters === 'memory') store = memoryAdmissionStore();
  if (o.counters === 'redis') {
    redis = redisAdmissionStore({ url: o.redisUrl!, nodeId: o.nodeId });
    await redis.recoverNode(clock.now().getTime()); // what a previous run of this node left
    store = redis;
  }
  const fast = store ? fastCallPolicy({ db, clock, store, changes: o.changes, onError: (e) => o.onError('policy decision rows', e) }) : null;
  const policy = fast ?? dbCallPolicy({ db, clock });
  const sweep = (): void => {
    const at = clock.now();
    // the admissions of a node that died stop counting (redis-admission-store.ts), then §4.10
    (async () => {
      await redis?.reapDeadNodes(at.getTime());
      await (fast ? fast.sweepLiveSpend(at) : sweepLiveSpend(db, at));
    })().catch((e: unknown) => o.onError('live spend sweep', e));
  };
  const purge = (): void => {
    purgeDecisions(db, clock.now(), o.retentionDays).catch((e: unknown) => o.onError('policy decisions purge', e));
  };
  // §4.10: the spend of calls in progress is re-checked every minute (decide and ended check it too).
  const timers = [setInterval(sweep, 60_000), setInterval(purge, 3_600_000)];
  for (const t of timers) t.unref();
  return {
    policy,
    async close() {
      for (const t of timers) clearInterval(t);
      await fast?.close();
      await store?.close();
    },
  };
}
