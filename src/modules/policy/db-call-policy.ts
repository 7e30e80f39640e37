/**
 * The call policy (`CallPolicy` of src/telephony/policy.ts) over the database, shared by
 * every SIP node. `decide` reads the facts no concurrent decision changes (contract,
 * numbers, settings, tariff) first, then runs one transaction serialised per client
 * (`pg_advisory_xact_lock`): the service state and the live counters (§4.3b/§4.10), the
 * pure `decideCall`, the decision recorded with its facts (explainability) — the row is
 * also the admission record that `answered`/`ended` complete — and, when a limit was
 * crossed, the security suspension (§9.2, security-suspension.ts). Two nodes can
 * therefore never both admit the last slot. `callerid_replaced` (§17.1) is recorded as
 * an event when a presented caller ID was refused.
 */
import { and, eq, gt, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Tx } from '../../db/client.ts';
import type { Clock } from '../../kernel/clock.ts';
import { EMERGENCY_NUMBERS, longestPrefixMatch } from '../../kernel/e164.ts';
import { localDate } from '../../kernel/time.ts';
import { newId } from '../../kernel/ids.ts';
import type { CallAttempt, CallPolicy, InboundAttempt } from '../../telephony/policy.ts';
import { tariffOn, type TariffVersion } from '../catalog/product-queries.ts';
import { contractStatusOf } from '../customers/contract-status.ts';
import { serviceStateOf } from '../customers/service-state.ts';
import { recordEvent } from '../events/index.ts';
import { numbersOfClient, type ClientNumber } from '../provisioning/caller-id.ts';
import { findUserByExtension } from '../provisioning/sip-directory.ts';
import { countUsersAt } from '../provisioning/user-store.ts';
import {
  decideCall,
  destinationClass,
  OUTBOUND_CLASSES,
  SPEND_CLASSES,
  spendTrip,
  type CallFacts,
  type LimitFacts,
  type PolicyDecision,
} from './call-decision.ts';
import { ATTEMPT_WINDOW_MS, DEFAULT_LIMITS, MAX_CALL_MS, MICROS_PER_CENT, SPEND_WINDOW_MS, spendMicros, type SpendCall } from './limits.ts';
import { policyDecisions } from './schema.ts';
import { lockClientPolicy, tripSecuritySuspension } from './security-suspension.ts';
import { clientSettingsRow, effectiveSettings, platformHighRiskPrefixes } from './settings.ts';

/** A recorded decision: `decisionId` always, `admission` (the same id) when the call was allowed. */
export type RecordedDecision = PolicyDecision & { readonly decisionId: string; readonly admission?: string };

export interface DbCallPolicy extends CallPolicy {
  decide(call: CallAttempt): Promise<RecordedDecision>;
  decideInbound(call: InboundAttempt): Promise<RecordedDecision>;
}

export interface DbCallPolicyOptions {
  db: Db;
  clock: Clock;
  emergencyNumbers?: readonly string[];
  /** How long the tariff and the high-risk list are kept in memory (10 s; 0 in tests that change them). */
  cacheMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const later = (a: Date, b: Date | null): Date => (b !== null && b > a ? b : a);

/** §4.3b/§4.10 the client's live counters at `at` (read under its lock). */
export async function liveCounters(
  tx: Tx,
  o: { clientId: string; userId: string | null; at: Date; resetAt: Date | null },
): Promise<Pick<LimitFacts, 'liveOutboundCalls' | 'userAttemptsLastMinute' | 'spendMicrosLastHour'>> {
  const t = o.at.getTime();
  const oldest = new Date(t - MAX_CALL_MS); // older admissions count as ended
  const attemptsFrom = later(new Date(t - ATTEMPT_WINDOW_MS), o.resetAt);
  const outbound = [...OUTBOUND_CLASSES];
  const [counts] = await tx
    .select({
      live: sql<number>`count(*) filter (where ${policyDecisions.allowed} and ${policyDecisions.endedAt} is null and ${inArray(policyDecisions.destinationClass, outbound)})::int`,
      attempts: sql<number>`count(*) filter (where ${policyDecisions.userId} = ${o.userId} and ${policyDecisions.startedAt} > ${attemptsFrom} and ${policyDecisions.destinationClass} <> 'emergency')::int`,
    })
    .from(policyDecisions)
    .where(and(eq(policyDecisions.clientId, o.clientId), eq(policyDecisions.direction, 'outbound'), gt(policyDecisions.startedAt, oldest)));
  return {
    liveOutboundCalls: counts?.live ?? 0,
    userAttemptsLastMinute: o.userId === null ? 0 : (counts?.attempts ?? 0),
    spendMicrosLastHour: await clientSpendMicros(tx, o.clientId, o.at, o.resetAt),
  };
}

/** International + premium spend of the client in the sliding hour ending at `at` (µ€), live calls up to `at`. */
export async function clientSpendMicros(tx: Tx, clientId: string, at: Date, resetAt: Date | null): Promise<number> {
  const from = later(new Date(at.getTime() - SPEND_WINDOW_MS), resetAt);
  const rows = await tx
    .select({ startedAt: policyDecisions.startedAt, answeredAt: policyDecisions.answeredAt, endedAt: policyDecisions.endedAt, rate: policyDecisions.perMinuteMicros })
    .from(policyDecisions)
    .where(
      and(
        eq(policyDecisions.clientId, clientId),
        eq(policyDecisions.allowed, true),
        inArray(policyDecisions.destinationClass, [...SPEND_CLASSES]),
        isNotNull(policyDecisions.answeredAt),
        gt(policyDecisions.startedAt, new Date(from.getTime() - MAX_CALL_MS)),
        or(isNull(policyDecisions.endedAt), gt(policyDecisions.endedAt, from)),
      ),
    );
  const calls: SpendCall[] = rows.map((r) => ({
    answeredAt: r.answeredAt,
    // A call never reported ended counts as ended at the maximum call duration.
    endedAt: r.endedAt ?? (r.startedAt.getTime() + MAX_CALL_MS < at.getTime() ? new Date(r.startedAt.getTime() + MAX_CALL_MS) : null),
    perMinuteMicros: r.rate,
  }));
  return spendMicros(calls, from, at);
}

/** RULES.md "Main number and caller ID": the user's own number is its earliest assigned (ties: the lowest). */
function ownNumber(numbers: readonly ClientNumber[], userId: string): string | null {
  let best: ClientNumber | null = null;
  for (const n of numbers) {
    if (n.userId !== userId) continue;
    if (best === null || n.assignedAt < best.assignedAt || (n.assignedAt.getTime() === best.assignedAt.getTime() && n.number < best.number)) best = n;
  }
  return best?.number ?? null;
}

/** The client's main number: the designated one, else its earliest assigned (ties: the lowest). */
function mainOf(numbers: readonly ClientNumber[]): string | null {
  let best: ClientNumber | null = null;
  for (const n of numbers) {
    if (
      best === null ||
      (n.isMain && !best.isMain) ||
      (n.isMain === best.isMain && (n.assignedAt < best.assignedAt || (n.assignedAt.getTime() === best.assignedAt.getTime() && n.number < best.number)))
    ) {
      best = n;
    }
  }
  return best?.number ?? null;
}

/**
 * Slow-changing platform data kept `cacheMs` per policy instance: the tariff in force
 * (a price change takes effect ≥ 30 days after its notice, §8.2) and the high-risk list.
 */
function policyCache(cacheMs: number): {
  zone(db: Db, e164: string, at: Date): Promise<{ zone: string; perMinuteMicros: number } | null>;
  highRisk(db: Db, at: Date): Promise<string[]>;
} {
  let tariff: { day: string; until: number; value: Promise<TariffVersion[]> } | undefined;
  let risky: { until: number; value: Promise<string[]> } | undefined;
  return {
    async zone(db, e164, at) {
      const day = localDate(at);
      if (tariff === undefined || tariff.day !== day || tariff.until <= Date.now()) tariff = { day, until: Date.now() + cacheMs, value: tariffOn(db, day) };
      const versions = await tariff.value;
      const match = longestPrefixMatch(
        e164,
        versions.flatMap((v) => v.prefixes.map((p) => [p, v] as const)),
      );
      return match ? { zone: match.value.zone, perMinuteMicros: match.value.perMinuteMicros } : null;
    },
    highRisk(db, _at) {
      if (risky === undefined || risky.until <= Date.now()) risky = { until: Date.now() + cacheMs, value: platformHighRiskPrefixes(db) };
      return risky.value;
    },
  };
}

export function dbCallPolicy(opts: DbCallPolicyOptions): DbCallPolicy {
  const emergencyNumbers = opts.emergencyNumbers ?? EMERGENCY_NUMBERS;
  const cached = policyCache(opts.cacheMs ?? 10_000);
  return {
    async decide(call) {
      const at = opts.clock.now();
      const userId = call.userId !== '' && UUID.test(call.userId) ? call.userId : null;
      const { db } = opts;
      // Facts that a concurrent decision cannot change: read before the lock, in parallel on a pool.
      const [internal, contract, numbers, row, highRisk] = await Promise.all([
        call.normalised === null ? findUserByExtension(db, call.clientId, call.dialled).then((u) => u !== null) : Promise.resolve(false),
        contractStatusOf(db, call.clientId),
        numbersOfClient(db, call.clientId),
        clientSettingsRow(db, call.clientId),
        cached.highRisk(db, at),
      ]);
      const users = row?.maxConcurrentCalls == null ? await countUsersAt(db, call.clientId, at) : null;
      const settings = effectiveSettings(row, { users: users ?? 0, contractEnabled: contract.enabled, platformHighRisk: highRisk });
      const destination = internal ? call.dialled : call.normalised;
      const cls = destinationClass({ destination, internal, emergencyNumbers, highRiskPrefixes: settings.highRiskPrefixes });
      const rate = destination !== null && destination.startsWith('+') && cls !== 'emergency' ? ((await cached.zone(db, destination, at))?.perMinuteMicros ?? 0) : 0;
      const own = userId === null ? null : ownNumber(numbers, userId);
      return db.transaction(async (tx) => {
        // The state and the live counters: under the client's lock, so that two nodes never both admit the last slot.
        await lockClientPolicy(tx, call.clientId);
        const serviceState = await serviceStateOf(tx, call.clientId);
        const state = contract.state === 'terminated' ? 'terminated' : serviceState;
        // The live limits matter only to an active client's non-emergency call.
        const limits: LimitFacts | undefined =
          state === 'active' && cls !== 'emergency'
            ? {
                ...(await liveCounters(tx, { clientId: call.clientId, userId, at, resetAt: row?.countersResetAt ?? null })),
                maxConcurrentCalls: settings.maxConcurrentCalls,
                maxAttemptsPerUserPerMinute: settings.attemptsPerUserPerMinute,
                maxSpendMicrosPerHour: settings.spendLimitCentsPerHour * MICROS_PER_CENT,
              }
            : undefined;
        const facts: CallFacts = {
          serviceState: state,
          enabled: settings.enabled,
          destination,
          internal,
          presentedCallerId: call.presentedCallerId,
          privacy: call.privacy,
          clientNumbers: new Set(numbers.map((n) => n.number)),
          userNumber: own,
          mainNumber: mainOf(numbers),
          emergencyNumbers,
          highRiskPrefixes: settings.highRiskPrefixes,
          internationalCalls: settings.internationalCalls,
          ...(limits ? { limits } : {}),
        };
        const decision = decideCall(facts);
        const id = newId(at);
        await tx.insert(policyDecisions).values({
          id,
          clientId: call.clientId,
          userId,
          direction: 'outbound',
          dialled: call.dialled,
          destination,
          destinationClass: cls,
          perMinuteMicros: rate,
          allowed: decision.allowed,
          sipStatus: decision.allowed ? null : decision.sipStatus,
          clause: decision.allowed ? null : decision.clause,
          reason: decision.allowed ? null : decision.reason,
          callerId: decision.allowed ? decision.callerId : null,
          callerIdReplaced: decision.allowed && decision.callerIdReplaced,
          emergency: decision.allowed && decision.emergency,
          facts: { ...factsJson(facts), fromExtension: call.fromExtension, dialled: call.dialled, users, destinationClass: cls, perMinuteMicros: rate },
          startedAt: at,
        });
        if (!decision.allowed && decision.trip) {
          await tripSecuritySuspension(tx, { clientId: call.clientId, at, trip: decision.trip, decisionId: id });
        }
        if (decision.allowed && decision.callerIdReplaced) {
          await recordEvent(tx, {
            at,
            clientId: call.clientId,
            type: 'callerid_replaced',
            clause: '17.1',
            details: { presented: call.presentedCallerId, callerId: decision.callerId, fromExtension: call.fromExtension, decisionId: id },
          });
        }
        return decision.allowed ? { ...decision, decisionId: id, admission: id } : { ...decision, decisionId: id };
      });
    },

    // §13.1 nothing for a terminated client; §8.7 minimum service refuses inbound calls
    // too; §9.2 security suspension blocks outbound calls only.
    async decideInbound(call) {
      const { db } = opts;
      const at = opts.clock.now();
      const [serviceState, contract] = [await serviceStateOf(db, call.clientId), await contractStatusOf(db, call.clientId)];
      const state = contract.state === 'terminated' ? 'terminated' : serviceState;
      const decision: PolicyDecision =
        state === null || state === 'terminated'
          ? { allowed: false, sipStatus: 404, clause: '13.1', reason: 'Service terminated (§13.1)' }
          : state === 'minimum_service'
            ? { allowed: false, sipStatus: 403, clause: '8.7', reason: 'Minimum service: inbound calls refused (§8.7)' }
            : { allowed: true, callerId: call.callerNumber, callerIdReplaced: false, emergency: false };
      const id = newId(at);
      await db.insert(policyDecisions).values({
        id,
        clientId: call.clientId,
        userId: call.userId !== null && UUID.test(call.userId) ? call.userId : null,
        direction: 'inbound',
        dialled: call.did,
        destination: call.did,
        destinationClass: 'inbound',
        allowed: decision.allowed,
        sipStatus: decision.allowed ? null : decision.sipStatus,
        clause: decision.allowed ? null : decision.clause,
        reason: decision.allowed ? null : decision.reason,
        callerId: decision.allowed ? decision.callerId : null,
        facts: { serviceState: state, did: call.did, callerNumber: call.callerNumber },
        startedAt: at,
      });
      return decision.allowed ? { ...decision, decisionId: id, admission: id } : { ...decision, decisionId: id };
    },

    /** Idempotent: the first report wins; nothing after `ended`. */
    async answered(admission, at) {
      if (!UUID.test(admission)) return;
      await opts.db
        .update(policyDecisions)
        .set({ answeredAt: at })
        .where(and(eq(policyDecisions.id, admission), isNull(policyDecisions.answeredAt), isNull(policyDecisions.endedAt)));
    },

    /**
     * Idempotent (the first report wins). An answered international or premium call that
     * ends re-checks the client's hourly spend (§4.10): crossing it suspends (§9.2).
     */
    async ended(admission, at) {
      if (!UUID.test(admission)) return;
      await opts.db.transaction(async (tx) => {
        const [row] = await tx
          .update(policyDecisions)
          .set({ endedAt: at })
          .where(and(eq(policyDecisions.id, admission), isNull(policyDecisions.endedAt)))
          .returning();
        if (!row || row.direction !== 'outbound' || row.answeredAt === null || !SPEND_CLASSES.has(row.destinationClass as never)) return;
        await lockClientPolicy(tx, row.clientId);
        if ((await serviceStateOf(tx, row.clientId)) !== 'active') return;
        const settingsRow = await clientSettingsRow(tx, row.clientId);
        const limit = (settingsRow?.spendLimitCentsPerHour ?? DEFAULT_LIMITS.spendLimitCentsPerHour) * MICROS_PER_CENT;
        const trip = spendTrip(await clientSpendMicros(tx, row.clientId, at, settingsRow?.countersResetAt ?? null), limit);
        if (trip) await tripSecuritySuspension(tx, { clientId: row.clientId, at, trip, decisionId: row.id });
      });
    },
  };
}

/**
 * §4.10 the spend of calls still in progress: a live international or premium call
 * keeps spending after its decision, and `decide`/`ended` only look when something
 * happens. Every client with such a live call is re-checked at `at`; crossing the hourly
 * limit suspends it (§9.2). Meant to run every minute on a SIP node (idempotent; a
 * client already suspended is skipped). Returns the clients suspended.
 */
export async function sweepLiveSpend(db: Db, at: Date): Promise<string[]> {
  const rows = await db
    .selectDistinct({ clientId: policyDecisions.clientId })
    .from(policyDecisions)
    .where(
      and(
        eq(policyDecisions.direction, 'outbound'),
        eq(policyDecisions.allowed, true),
        inArray(policyDecisions.destinationClass, [...SPEND_CLASSES]),
        isNotNull(policyDecisions.answeredAt),
        isNull(policyDecisions.endedAt),
        gt(policyDecisions.startedAt, new Date(at.getTime() - MAX_CALL_MS)),
      ),
    );
  const suspended: string[] = [];
  for (const { clientId } of rows) {
    const tripped = await db.transaction(async (tx) => {
      await lockClientPolicy(tx, clientId);
      if ((await serviceStateOf(tx, clientId)) !== 'active') return false;
      const settingsRow = await clientSettingsRow(tx, clientId);
      const limit = (settingsRow?.spendLimitCentsPerHour ?? DEFAULT_LIMITS.spendLimitCentsPerHour) * MICROS_PER_CENT;
      const trip = spendTrip(await clientSpendMicros(tx, clientId, at, settingsRow?.countersResetAt ?? null), limit);
      if (trip) await tripSecuritySuspension(tx, { clientId, at, trip, decisionId: null });
      return trip !== null;
    });
    if (tripped) suspended.push(clientId);
  }
  return suspended;
}

/** CallFacts as JSON (the set of numbers as a sorted list). */
export function factsJson(f: CallFacts): Record<string, unknown> {
  return { ...f, clientNumbers: [...f.clientNumbers].sort() };
}
