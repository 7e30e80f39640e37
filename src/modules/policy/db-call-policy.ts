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
import { and, eq, gt, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../../db/client.ts';
import type { Clock } from '../../kernel/clock.ts';
import { EMERGENCY_NUMBERS, longestPrefixMatch } from '../../kernel/e164.ts';
import { addDays, localDate, startOfLocalDay, type LocalDate } from '../../kernel/time.ts';
import { newId } from '../../kernel/ids.ts';
import type { CallAttempt, CallPolicy, InboundAttempt } from '../../telephony/policy.ts';
import { tariffOn, type TariffVersion } from '../catalog/product-queries.ts';
import { contractStatusOf } from '../customers/contract-status.ts';
import { serviceStateOf } from '../customers/service-state.ts';
import { recordEvent, type DomainEvent } from '../events/index.ts';
import { numberIndex } from '../provisioning/caller-id.ts';
import { provisionedUsers } from '../provisioning/schema.ts';
import {
  decideCall,
  destinationClass,
  OUTBOUND_CLASSES,
  SPEND_CLASSES,
  spendTrip,
  type CallFacts,
  type DestinationClass,
  type LimitFacts,
  type PolicyDecision,
} from './call-decision.ts';
import { ATTEMPT_WINDOW_MS, DEFAULT_LIMITS, MAX_CALL_MS, MICROS_PER_CENT, SPEND_WINDOW_MS, spendMicros, type SpendCall } from './limits.ts';
import { policyClientSettings, policyDecisions } from './schema.ts';
import type { ServiceState } from '../customers/schema.ts';
import { lockClientPolicy, tripSecuritySuspension } from './security-suspension.ts';
import { clientFactColumns, clientFactsOf, epochMs, type StaticClientFacts } from './facts-cache.ts';
import type { DecisionRow } from './decision-log.ts';
import { clientSettingsRow, DEFAULT_HIGH_RISK_PREFIXES, effectiveSettings, type EffectivePolicySettings } from './settings.ts';

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
  /** How often the tariff kept in memory is read again, in the background (10 s). */
  cacheMs?: number;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const later = (a: Date, b: Date | null): Date => (b !== null && b > a ? b : a);

/** The live spend rows (§4.3b/§4.10) as the admission read returns them: epoch ms, µ€ per minute. */
type SpendRow = readonly [startedMs: number, answeredMs: number, endedMs: number | null, perMinuteMicros: number];

/** A call never reported ended counts as ended at the maximum call duration (§4.10, lost `ended`). */
function spendCallOf([startedMs, answeredMs, endedMs, rate]: SpendRow, at: Date): SpendCall {
  return {
    answeredAt: new Date(answeredMs),
    endedAt: endedMs !== null ? new Date(endedMs) : startedMs + MAX_CALL_MS < at.getTime() ? new Date(startedMs + MAX_CALL_MS) : null,
    perMinuteMicros: rate,
  };
}

/** Everything one outbound decision reads, in one statement under the client's lock. */
export interface AdmissionFacts extends StaticClientFacts {
  /** Current users of the client at `at` (the §4.3b default concurrency). */
  users: number;
  /** The dialled extension is a current user of the client (internal call). */
  internal: boolean;
  counters: Pick<LimitFacts, 'liveOutboundCalls' | 'userAttemptsLastMinute' | 'spendMicrosLastHour'>;
}

const SPEND_CLASS_LIST = sql.raw([...SPEND_CLASSES].map((c) => `'${c}'`).join(', '));
const OUTBOUND_CLASS_LIST = sql.raw([...OUTBOUND_CLASSES].map((c) => `'${c}'`).join(', '));

/**
 * The facts of one outbound decision in ONE statement, read fresh after the client's lock
 * (READ COMMITTED: this statement's snapshot is taken after the lock, so it sees every
 * admission committed before it): service state (§8.7/§9.2/§13.1), current contract
 * (§13.1, §4.3b options), policy settings (counter reset included), assigned numbers
 * (§17.1), user count (§4.3b default), the internal extension, the platform high-risk list,
 * and the live counters (§4.3b/§4.10): live outbound calls, the user's attempts in the
 * sliding minute, the spend rows of the sliding hour. Each subquery has its index
 * (schema.ts: partial indexes for live calls and spend calls).
 */
export async function admissionFacts(tx: DbOrTx, o: AdmissionQuery): Promise<AdmissionFacts> {
  const result = await tx.execute(admissionFactsSql(o));
  return admissionFactsOf((result as { rows: Record<string, unknown>[] }).rows[0]!, o.at);
}

export interface AdmissionQuery {
  clientId: string;
  userId: string | null;
  at: Date;
  /** The dialled digits when they did not normalise (an extension?), else null. */
  extension: string | null;
  /** The caller ID the phone presented (§17.1): with the user, which of the client's numbers are read. */
  callerId: string | null;
}

/** The statement of `admissionFacts` (exported for EXPLAIN in the bench). */
export function admissionFactsSql(o: AdmissionQuery): SQL {
  const { clientId, userId, at, callerId } = o;
  const t = at.getTime();
  const oldest = sql`${new Date(t - MAX_CALL_MS).toISOString()}::timestamptz`; // older admissions count as ended
  const atTs = sql`${at.toISOString()}::timestamptz`;
  const pd = policyDecisions;
  const s = policyClientSettings;
  // The reset instant is read in the same statement: the windows start at max(window, reset).
  const reset = sql`(SELECT ${s.countersResetAt} FROM ${s} WHERE ${s.clientId} = ${clientId})`;
  const attemptsFrom = sql`greatest(${new Date(t - ATTEMPT_WINDOW_MS).toISOString()}::timestamptz, ${reset})`;
  const spendFrom = sql`greatest(${new Date(t - SPEND_WINDOW_MS).toISOString()}::timestamptz, ${reset})`;
  return sql`
    SELECT ${clientFactColumns(clientId, { callerId, userId })},
      (SELECT count(*)::int FROM ${provisionedUsers} WHERE ${provisionedUsers.clientId} = ${clientId} AND ${provisionedUsers.createdAt} <= ${atTs}
        AND (${provisionedUsers.deletedAt} IS NULL OR ${provisionedUsers.deletedAt} > ${atTs})) AS users,
      ${
        o.extension === null
          ? sql`false`
          : sql`EXISTS (SELECT 1 FROM ${provisionedUsers} WHERE ${provisionedUsers.clientId} = ${clientId}
              AND ${provisionedUsers.extension} = ${o.extension} AND ${provisionedUsers.deletedAt} IS NULL)`
      } AS internal,
      (SELECT count(*)::int FROM ${pd} WHERE ${pd.clientId} = ${clientId} AND ${pd.direction} = 'outbound' AND ${pd.allowed}
        AND ${pd.endedAt} IS NULL AND ${pd.destinationClass} IN (${OUTBOUND_CLASS_LIST}) AND ${pd.startedAt} > ${oldest}) AS live,
      ${
        userId === null
          ? sql`0`
          : sql`(SELECT count(*)::int FROM ${pd} WHERE ${pd.userId} = ${userId} AND ${pd.clientId} = ${clientId} AND ${pd.direction} = 'outbound'
              AND ${pd.destinationClass} <> 'emergency' AND ${pd.startedAt} > ${attemptsFrom})`
      } AS attempts,
      (SELECT coalesce(json_agg(json_build_array(${epochMs(sql`${pd.startedAt}`)}, ${epochMs(sql`${pd.answeredAt}`)}, ${epochMs(sql`${pd.endedAt}`)}, ${pd.perMinuteMicros})), '[]'::json)
        FROM ${pd} WHERE ${pd.clientId} = ${clientId} AND ${pd.direction} = 'outbound' AND ${pd.allowed} AND ${pd.answeredAt} IS NOT NULL
          AND ${pd.destinationClass} IN (${SPEND_CLASS_LIST}) AND ${pd.startedAt} > ${spendFrom} - interval '${sql.raw(String(MAX_CALL_MS))} milliseconds'
          AND (${pd.endedAt} IS NULL OR ${pd.endedAt} > ${spendFrom})) AS spend,
      ${epochMs(spendFrom)} AS spend_from,
      ${clientId}::uuid AS client_id
  `;
}

function admissionFactsOf(r: Record<string, unknown>, at: Date): AdmissionFacts {
  const clientId = String(r.client_id);
  const spendRows = (typeof r.spend === 'string' ? JSON.parse(r.spend) : r.spend) as SpendRow[];
  return {
    ...clientFactsOf(r, clientId),
    users: Number(r.users),
    internal: r.internal === true,
    counters: {
      liveOutboundCalls: Number(r.live),
      userAttemptsLastMinute: Number(r.attempts),
      spendMicrosLastHour: spendMicros(
        spendRows.map((row) => spendCallOf(row, at)),
        new Date(Number(r.spend_from)),
        at,
      ),
    },
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

/**
 * The Brussels calendar day of an instant (RULES.md, Conventions), remembering the span of the
 * last day asked: an instant inside [its 00:00, the next 00:00) gets it without converting time
 * zones (the Temporal polyfill cost ≈ 1.6 % of a SIP node's CPU per call, issue #4). The span is
 * computed by the time-zone rules themselves, so it is 23 h or 25 h on the days clocks change.
 */
export function localDayCache(): (at: Date) => LocalDate {
  let day: LocalDate | undefined;
  let from = 0;
  let until = 0;
  return (at) => {
    const ms = at.getTime();
    if (day !== undefined && ms >= from && ms < until) return day;
    day = localDate(at);
    from = startOfLocalDay(day).getTime();
    until = startOfLocalDay(addDays(day, 1)).getTime();
    return day;
  };
}

/**
 * The tariff in force (a price change takes effect ≥ 30 days after its notice, §8.2),
 * kept per policy instance and per local day, read again in the background every
 * `cacheMs` (a new day waits for its tariff).
 */
export function policyCache(cacheMs: number): {
  zone(db: Db, e164: string, at: Date): Promise<{ zone: string; perMinuteMicros: number } | null>;
} {
  type Prefixes = (readonly [string, TariffVersion])[];
  interface Loaded {
    day: string;
    until: number;
    prefixes: Promise<Prefixes>;
    refreshing: boolean;
  }
  let tariff: Loaded | undefined;
  const dayOf = localDayCache();
  const load = (db: Db, day: string): Loaded => ({
    day,
    until: Date.now() + cacheMs,
    prefixes: tariffOn(db, day).then((versions) => versions.flatMap((v) => v.prefixes.map((p) => [p, v] as const))),
    refreshing: false,
  });
  return {
    async zone(db, e164, at) {
      const day = dayOf(at);
      if (tariff === undefined || tariff.day !== day) tariff = load(db, day);
      else if (tariff.until <= Date.now() && !tariff.refreshing) {
        // issue #7: refreshed in the background, the decision keeps the tariff it has (no round trip on the call path)
        const current = tariff;
        current.refreshing = true;
        const next = load(db, day);
        next.prefixes.then(
          () => {
            if (tariff === current) tariff = next;
          },
          () => {
            current.refreshing = false;
            current.until = Date.now() + cacheMs;
          },
        );
      }
      const match = longestPrefixMatch(e164, await tariff.prefixes);
      return match ? { zone: match.value.zone, perMinuteMicros: match.value.perMinuteMicros } : null;
    },
  };
}

/** The inputs of one outbound decision but its live counters (both modes build them alike). */
export interface OutboundFacts {
  readonly facts: CallFacts;
  readonly cls: DestinationClass;
  readonly rate: number;
  readonly settings: EffectivePolicySettings;
  /** Extra facts recorded with the decision. */
  readonly extra: Record<string, unknown>;
  /** True when the live limits apply. */
  readonly limited: boolean;
}

/**
 * The facts of `o` with the counters (§4.3b/§4.10: only an active client's non-emergency call is
 * limited): `o.facts` itself, its `limits` set — `o` is the call's own, made by `outboundFacts`
 * (a decision taken on it before saw no limits). Written out rather than spread: copying the
 * facts and the store's answer into new objects took ≈ 1 % of bench:sip's main-thread samples (issue #4).
 */
export function withLimits(o: OutboundFacts, counters: Pick<LimitFacts, 'liveOutboundCalls' | 'userAttemptsLastMinute' | 'spendMicrosLastHour'>): CallFacts {
  if (!o.limited) return o.facts;
  const { settings } = o;
  o.facts.limits = {
    liveOutboundCalls: counters.liveOutboundCalls,
    maxConcurrentCalls: settings.maxConcurrentCalls,
    userAttemptsLastMinute: counters.userAttemptsLastMinute,
    maxAttemptsPerUserPerMinute: settings.attemptsPerUserPerMinute,
    spendMicrosLastHour: counters.spendMicrosLastHour,
    maxSpendMicrosPerHour: settings.spendLimitCentsPerHour * MICROS_PER_CENT,
  };
  return o.facts;
}

export function outboundFacts(
  call: CallAttempt,
  f: StaticClientFacts,
  o: { userId: string | null; users: number; internal: boolean; tariffRate: number; emergencyNumbers: readonly string[] },
): OutboundFacts {
  const { numbers, settings: row } = f;
  const { internal, userId, emergencyNumbers } = o;
  const users = row?.maxConcurrentCalls == null ? o.users : null;
  const settings = effectiveSettings(row, {
    users: users ?? 0,
    contractEnabled: f.contractEnabled,
    platformHighRisk: f.platformHighRisk ?? DEFAULT_HIGH_RISK_PREFIXES,
  });
  const destination = internal ? call.dialled : call.normalised;
  const cls = destinationClass({ destination, internal, emergencyNumbers, highRiskPrefixes: settings.highRiskPrefixes });
  const rate = destination !== null && destination === call.normalised && cls !== 'emergency' ? o.tariffRate : 0;
  const state = f.contractState === 'terminated' ? 'terminated' : f.serviceState;
  const index = numberIndex(numbers);
  const facts: CallFacts = {
    serviceState: state,
    enabled: settings.enabled,
    destination,
    internal,
    presentedCallerId: call.presentedCallerId,
    privacy: call.privacy,
    clientNumbers: index.assigned,
    userNumber: userId === null ? null : (index.ownOf.get(userId)?.number ?? null),
    mainNumber: index.main,
    emergencyNumbers,
    highRiskPrefixes: settings.highRiskPrefixes,
    internationalCalls: settings.internationalCalls,
    limits: undefined, // set by `withLimits` (one shape whether the call is limited or not)
  };
  const limited = state === 'active' && cls !== 'emergency';
  return {
    facts,
    cls,
    rate,
    settings,
    limited,
    extra: { fromExtension: call.fromExtension, dialled: call.dialled, users, destinationClass: cls, perMinuteMicros: rate },
  };
}

/** §17.1 the event of a presented caller ID refused and replaced. */
export function callerIdReplaced(call: CallAttempt, callerId: string | null, decisionId: string, at: Date): DomainEvent {
  return {
    at,
    clientId: call.clientId,
    type: 'callerid_replaced',
    clause: '17.1',
    details: { presented: call.presentedCallerId, callerId, fromExtension: call.fromExtension, decisionId },
  };
}

/** The decision row of an outbound decision (explainability: its facts and clause). */
export function decisionRow(
  call: CallAttempt,
  o: OutboundFacts,
  facts: CallFacts,
  decision: PolicyDecision,
  userId: string | null,
  at: Date,
  id: string = newId(at),
): DecisionRow & { id: string } {
  return {
    id,
    clientId: call.clientId,
    userId,
    direction: 'outbound',
    dialled: call.dialled,
    destination: o.facts.destination,
    destinationClass: o.cls,
    perMinuteMicros: o.rate,
    allowed: decision.allowed,
    sipStatus: decision.allowed ? null : decision.sipStatus,
    clause: decision.allowed ? null : decision.clause,
    reason: decision.allowed ? null : decision.reason,
    callerId: decision.allowed ? decision.callerId : null,
    callerIdReplaced: decision.allowed && decision.callerIdReplaced,
    emergency: decision.allowed && decision.emergency,
    facts: { ...factsJson(facts), ...o.extra },
    startedAt: at,
  };
}

/**
 * §13.1 nothing for a terminated client; §8.7 minimum service refuses inbound calls
 * too; §9.2 security suspension blocks outbound calls only. The decision and its row.
 */
export function inboundRow(call: InboundAttempt, state: ServiceState | null, at: Date): { decision: PolicyDecision; row: DecisionRow & { id: string } } {
  const decision: PolicyDecision =
    state === null || state === 'terminated'
      ? { allowed: false, sipStatus: 404, clause: '13.1', reason: 'Service terminated (§13.1)' }
      : state === 'minimum_service'
        ? { allowed: false, sipStatus: 403, clause: '8.7', reason: 'Minimum service: inbound calls refused (§8.7)' }
        : { allowed: true, callerId: call.callerNumber, callerIdReplaced: false, emergency: false, assertedIdentity: null };
  const id = newId(at);
  return {
    decision,
    row: {
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
      // One transaction serialised per client (every node): the lock, then ONE read of every
      // fact and live counter (fresh: nothing of the client is cached), the pure decision, the
      // insert of the decision row. Only the tariff is cached (policyCache).
      // The tariff (cached per node), awaited before the transaction (PGlite has one
      // connection: a query outside an open transaction would wait for it).
      const tariffRate = call.normalised?.startsWith('+') ? ((await cached.zone(db, call.normalised, at))?.perMinuteMicros ?? 0) : 0;
      return db.transaction(async (tx) => {
        await lockClientPolicy(tx, call.clientId);
        const f = await admissionFacts(tx, {
          clientId: call.clientId,
          userId,
          at,
          extension: call.normalised === null ? call.dialled : null,
          callerId: call.presentedCallerId,
        });
        const o = outboundFacts(call, f, { userId, users: f.users, internal: f.internal, tariffRate, emergencyNumbers });
        const facts = withLimits(o, f.counters);
        const decision = decideCall(facts);
        const row = decisionRow(call, o, facts, decision, userId, at);
        const { id } = row;
        await tx.insert(policyDecisions).values(row);
        if (!decision.allowed && decision.trip) {
          await tripSecuritySuspension(tx, { clientId: call.clientId, at, trip: decision.trip, decisionId: id });
        }
        if (decision.allowed && decision.callerIdReplaced) await recordEvent(tx, callerIdReplaced(call, decision.callerId, id, at));
        return decision.allowed ? { ...decision, decisionId: id, admission: id } : { ...decision, decisionId: id };
      });
    },

    // §13.1 nothing for a terminated client; §8.7 minimum service refuses inbound calls
    // too; §9.2 security suspension blocks outbound calls only.
    async decideInbound(call) {
      const { db } = opts;
      const at = opts.clock.now();
      const [serviceState, contract] = [await serviceStateOf(db, call.clientId), await contractStatusOf(db, call.clientId)];
      const row = inboundRow(call, contract.state === 'terminated' ? 'terminated' : serviceState, at);
      await db.insert(policyDecisions).values(row.row);
      const { decision, row: { id } } = row;
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
      // One statement for most calls; the spend re-check (its own locked transaction) only
      // for an answered international or premium call.
      const [row] = await opts.db
        .update(policyDecisions)
        .set({ endedAt: at })
        .where(and(eq(policyDecisions.id, admission), isNull(policyDecisions.endedAt)))
        .returning({ id: policyDecisions.id, clientId: policyDecisions.clientId, direction: policyDecisions.direction, answeredAt: policyDecisions.answeredAt, destinationClass: policyDecisions.destinationClass });
      if (!row || row.direction !== 'outbound' || row.answeredAt === null || !SPEND_CLASSES.has(row.destinationClass as never)) return;
      await opts.db.transaction(async (tx) => {
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

/**
 * CallFacts as recorded with the decision. Of the client's numbers, only what §17.1 decided
 * on: whether the presented caller ID is one of them (`presentedCallerIdAssigned`, null when
 * none was presented) beside `userNumber` and `mainNumber` — not the whole list, which a
 * client with thousands of DIDs wrote into every decision row (issue #4).
 */
export function factsJson(f: CallFacts): Record<string, unknown> {
  const { clientNumbers, ...rest } = f;
  return { ...rest, presentedCallerIdAssigned: f.presentedCallerId === null ? null : clientNumbers.has(f.presentedCallerId) };
}
