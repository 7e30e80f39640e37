/**
 * Issue #7: the call policy with nothing on the decision path that waits for the database
 * when the client's facts are in memory. `decide` = the client's facts from the per-node
 * cache (facts-cache.ts: loaded once, forgotten on a change notice), the tariff (cached),
 * the pure `decideCall` (§13.1, §8.7, §9.2, §4.3b, §4.10, §17.1) with the live counters of
 * the admission store (admission-store.ts: in memory for one node, Redis for several;
 * read-check-admit is one atomic step), then the decision row queued for group commit
 * (decision-log.ts). The rare events stay transactional and are awaited: crossing a limit
 * suspends the client (§9.2: state, fraud_alert, critical alert, notice, audit) in a
 * transaction under the client's lock before the refusal is returned.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { ChangeFeed } from '../../db/changes.ts';
import type { Clock } from '../../kernel/clock.ts';
import { EMERGENCY_NUMBERS } from '../../kernel/e164.ts';
import { newId } from '../../kernel/ids.ts';
import type { CallAttempt } from '../../telephony/policy.ts';
import type { AdmissionStore, SeedCounters } from './admission-store.ts';
import { decideCall, OUTBOUND_CLASSES, SPEND_CLASSES, spendTrip, type Trip } from './call-decision.ts';
import { callerIdReplaced, decisionRow, inboundRow, outboundFacts, policyCache, UUID, withLimits, type DbCallPolicy } from './db-call-policy.ts';
import { decisionLog, type DecisionLog } from './decision-log.ts';
import { epochMs, factsCache, type FactsCache } from './facts-cache.ts';
import { ATTEMPT_WINDOW_MS, DEFAULT_LIMITS, MICROS_PER_CENT, SPEND_WINDOW_MS } from './limits.ts';
import { lockClientPolicy, tripSecuritySuspension } from './security-suspension.ts';

export interface FastCallPolicyOptions {
  db: Db;
  clock: Clock;
  store: AdmissionStore;
  /** The change feed that tells the facts cache what to forget; without one, facts are never refreshed (tests of one instant only). */
  changes?: ChangeFeed;
  emergencyNumbers?: readonly string[];
  /** How long the tariff is kept in memory (10 s). */
  cacheMs?: number;
  onError?: (e: unknown) => void;
}

export interface FastCallPolicy extends DbCallPolicy {
  /** Waits until every decision row and answered/ended report queued so far is committed. */
  flush(): Promise<void>;
  /** §4.10 the minute sweep of the spend of calls in progress; returns the clients suspended. */
  sweepLiveSpend(at: Date): Promise<string[]>;
  readonly facts: FactsCache;
  readonly log: DecisionLog;
  close(): Promise<void>;
}

/** The attempts of the sliding minute and the ended spend calls of the sliding hour, as recorded (one statement). */
async function recordedCounters(db: Db, clientId: string, at: Date): Promise<SeedCounters> {
  const t = at.getTime();
  const minute = new Date(t - ATTEMPT_WINDOW_MS).toISOString();
  const hour = new Date(t - SPEND_WINDOW_MS).toISOString();
  const ms = (column: string): SQL => epochMs(sql.raw(column));
  const result = (await db.execute(sql`
    SELECT user_id, ${ms('started_at')} AS started, ${ms('answered_at')} AS answered, ${ms('ended_at')} AS ended, per_minute_micros AS rate,
      (answered_at IS NOT NULL AND ended_at > ${hour}::timestamptz AND allowed AND destination_class IN ('international', 'high_risk', 'premium')) AS spend
    FROM policy_decisions
    WHERE client_id = ${clientId} AND direction = 'outbound' AND started_at <= ${at.toISOString()}::timestamptz
      AND ((user_id IS NOT NULL AND destination_class <> 'emergency' AND started_at > ${minute}::timestamptz)
        OR (answered_at IS NOT NULL AND ended_at > ${hour}::timestamptz AND allowed AND destination_class IN ('international', 'high_risk', 'premium')))`)) as {
    rows: { user_id: string | null; started: number; answered: number | null; ended: number | null; rate: number; spend: boolean }[];
  };
  const attempts: [string, number][] = [];
  const spend: SeedCounters['spend'][number][] = [];
  for (const r of result.rows) {
    if (r.user_id !== null && r.started > t - ATTEMPT_WINDOW_MS) attempts.push([r.user_id, r.started]);
    if (r.spend) spend.push({ startedMs: r.started, answeredMs: r.answered!, endedMs: r.ended!, rate: r.rate });
  }
  return { attempts, spend };
}

export function fastCallPolicy(opts: FastCallPolicyOptions): FastCallPolicy {
  const { db, store } = opts;
  const emergencyNumbers = opts.emergencyNumbers ?? EMERGENCY_NUMBERS;
  const tariff = policyCache(opts.cacheMs ?? 10_000);
  const facts = factsCache(db, opts.changes);
  const log = decisionLog(db, opts.onError);

  /** §9.2 the suspension for a crossed limit, in its own transaction under the client's lock; the facts are read again after it. */
  async function trip(clientId: string, at: Date, t: Trip, decisionId: string | null): Promise<boolean> {
    const alert = await db.transaction(async (tx) => {
      await lockClientPolicy(tx, clientId);
      return tripSecuritySuspension(tx, { clientId, at, trip: t, decisionId });
    });
    facts.forget(clientId);
    return alert !== null;
  }

  /** §4.10 re-check of the client's hourly spend (after a spend call ended, and every minute). */
  async function checkSpend(clientId: string, at: Date, decisionId: string | null): Promise<boolean> {
    const f = await facts.get(clientId);
    await seedOnce(clientId, at);
    if (f.serviceState !== 'active' || f.contractState === 'terminated') return false;
    const limit = (f.settings?.spendLimitCentsPerHour ?? DEFAULT_LIMITS.spendLimitCentsPerHour) * MICROS_PER_CENT;
    const t = spendTrip(await store.spend(clientId, at.getTime(), f.settings?.countersResetAt?.getTime() ?? 0), limit);
    return t !== null && trip(clientId, at, t, decisionId);
  }

  /** Memory store: each client's recorded attempts and spend, once per process, before its first decision. */
  const seeded = new Map<string, Promise<void>>();
  function seedOnce(clientId: string, at: Date): Promise<void> {
    const seed = store.seed?.bind(store);
    if (!seed) return Promise.resolve();
    let p = seeded.get(clientId);
    if (!p) {
      p = recordedCounters(db, clientId, at).then((c) => seed(clientId, c));
      p.catch(() => seeded.delete(clientId));
      seeded.set(clientId, p);
    }
    return p;
  }

  return {
    facts,
    log,
    async decide(call: CallAttempt) {
      const at = opts.clock.now();
      const userId = call.userId !== '' && UUID.test(call.userId) ? call.userId : null;
      const f = await facts.get(call.clientId);
      await seedOnce(call.clientId, at);
      const tariffRate = call.normalised?.startsWith('+') ? ((await tariff.zone(db, call.normalised, at))?.perMinuteMicros ?? 0) : 0;
      const internal = call.normalised === null && f.isExtension(call.dialled);
      const o = outboundFacts(call, f, { userId, users: f.usersAt(at), internal, tariffRate, emergencyNumbers });
      const id = newId(at);
      const barred = !decideCall(o.facts).allowed;
      const r = await store.admit({
        id,
        clientId: call.clientId,
        userId: o.cls === 'emergency' ? null : userId,
        atMs: at.getTime(),
        checkLimits: o.limited,
        barred,
        occupiesSlot: OUTBOUND_CLASSES.has(o.cls),
        spendRate: SPEND_CLASSES.has(o.cls) ? o.rate : null,
        maxConcurrent: o.settings.maxConcurrentCalls,
        maxAttempts: o.settings.attemptsPerUserPerMinute,
        maxSpendMicros: o.settings.spendLimitCentsPerHour * MICROS_PER_CENT,
        resetMs: f.settings?.countersResetAt?.getTime() ?? 0,
      });
      const withCounters = withLimits(o, r);
      const decision = decideCall(withCounters);
      // The store applies the same rules; should they ever disagree, the pure decision wins.
      if (!decision.allowed && r.admitted) await store.release(id);
      log.insert(decisionRow(call, o, withCounters, decision, userId, at, id));
      if (!decision.allowed && decision.trip) await trip(call.clientId, at, decision.trip, id);
      if (decision.allowed && decision.callerIdReplaced) log.event(callerIdReplaced(call, decision.callerId, id, at));
      return decision.allowed ? { ...decision, decisionId: id, admission: id } : { ...decision, decisionId: id };
    },

    async decideInbound(call) {
      const at = opts.clock.now();
      const f = await facts.get(call.clientId);
      const { decision, row } = inboundRow(call, f.contractState === 'terminated' ? 'terminated' : f.serviceState, at);
      log.insert(row);
      return decision.allowed ? { ...decision, decisionId: row.id, admission: row.id } : { ...decision, decisionId: row.id };
    },

    /** Idempotent: the first report wins; nothing after `ended`. */
    async answered(admission, at) {
      if (!UUID.test(admission)) return;
      await store.answered(admission, at.getTime());
      log.answered(admission, at);
    },

    /** Idempotent. An answered international or premium call that ends re-checks the hourly spend (§4.10). */
    async ended(admission, at) {
      if (!UUID.test(admission)) return;
      const call = await store.ended(admission, at.getTime());
      log.ended(admission, at);
      if (call?.spent) await checkSpend(call.clientId, at, admission);
    },

    flush: () => log.flush(),

    async sweepLiveSpend(at) {
      const suspended: string[] = [];
      for (const clientId of await store.liveSpendClients(at.getTime())) {
        if (await checkSpend(clientId, at, null)) suspended.push(clientId);
      }
      return suspended;
    },

    async close() {
      facts.close();
      await log.flush().catch(() => undefined);
    },
  };
}
