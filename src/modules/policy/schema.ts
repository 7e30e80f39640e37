import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Every call decision of the policy (explainability, RULES.md: "every automated decision
 * records the clause it applies"), and the admission record of the live limits
 * (§4.3b/§4.10): one row per decided attempt, outbound or internal (inbound ones too,
 * with `direction = 'inbound'`), with the facts the decision read, its clause, and the
 * call's answered/ended instants that the SIP router reports back (`answered`/`ended`).
 * The row id is the decision's `admission` handle. Shared by every SIP node: the counts
 * are read under a per-client advisory lock in the transaction that inserts the row.
 */
export const policyDecisions = pgTable(
  'policy_decisions',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    /** The calling (or, inbound, called) user; null when none. */
    userId: uuid('user_id'),
    direction: text('direction', { enum: ['outbound', 'inbound'] }).notNull(),
    /** As dialled (outbound) or the DID (inbound). */
    dialled: text('dialled').notNull(),
    /** Normalised destination (E.164, short number, or the extension of an internal call). */
    destination: text('destination'),
    /** `emergency`, `internal`, `national`, `international`, `high_risk`, `premium`, `unknown`, `inbound`. */
    destinationClass: text('destination_class').notNull(),
    /** Tariff per minute at the call start (µ€), 0 when no zone matches: the spend limit's rate. */
    perMinuteMicros: integer('per_minute_micros').notNull().default(0),
    allowed: boolean('allowed').notNull(),
    sipStatus: integer('sip_status'),
    clause: text('clause'),
    reason: text('reason'),
    callerId: text('caller_id'),
    callerIdReplaced: boolean('caller_id_replaced').notNull().default(false),
    emergency: boolean('emergency').notNull().default(false),
    /** The inputs of the pure decision (CallFacts, limits included), as JSON. */
    facts: jsonb('facts').$type<Record<string, unknown>>().notNull(),
    /** The decision instant = the call attempt's start. */
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    index('policy_decisions_client_started_idx').on(t.clientId, t.startedAt),
    index('policy_decisions_user_started_idx').on(t.userId, t.startedAt),
    // §4.3b live outbound calls: the admitted calls not ended (a partial index stays small).
    index('policy_decisions_live_idx')
      .on(t.clientId, t.startedAt)
      .where(sql`${t.allowed} AND ${t.endedAt} IS NULL AND ${t.direction} = 'outbound'`),
    // §4.3b/§4.10 spend: answered international, high-risk and premium calls.
    index('policy_decisions_spend_idx')
      .on(t.clientId, t.startedAt)
      .where(sql`${t.allowed} AND ${t.answeredAt} IS NOT NULL AND ${t.direction} = 'outbound' AND ${t.destinationClass} IN ('international', 'high_risk', 'premium')`),
  ],
);

/**
 * Per-client policy settings (§4.3b/§4.10): a null column takes the RULES.md default
 * (concurrent ≤ max(4, 2 × users), 20 attempts per user per minute, 50 € per hour of
 * international + premium spend, the contract's `enable` options, the platform's
 * high-risk list, international calls allowed).
 */
export const policyClientSettings = pgTable('policy_client_settings', {
  clientId: uuid('client_id').primaryKey(),
  maxConcurrentCalls: integer('max_concurrent_calls'),
  attemptsPerUserPerMinute: integer('attempts_per_user_per_minute'),
  spendLimitCentsPerHour: integer('spend_limit_cents_per_hour'),
  /** false: every international call refused (403, §4.3b). */
  internationalCalls: boolean('international_calls'),
  /** Replaces the contract's `enable` options when set (`premium`, `international`). */
  enabled: jsonb('enabled').$type<string[]>(),
  /** Replaces the platform's high-risk destination prefixes when set. */
  highRiskPrefixes: jsonb('high_risk_prefixes').$type<string[]>(),
  /**
   * Attempts and spend are counted from this instant at the earliest: set when staff
   * lift a security suspension, so that the traffic that tripped it does not trip it again.
   */
  countersResetAt: timestamp('counters_reset_at', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
});

export const SECURITY_ALERT_STATUSES = ['open', 'acknowledged'] as const;

/**
 * Critical security alerts staff see and acknowledge (§4.3b/§4.10, §9.2): opened when a
 * live limit trips a security suspension. Stands in for the critical ticket of RULES.md
 * until the support module (tickets) exists.
 */
export const securityAlerts = pgTable(
  'security_alerts',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    severity: text('severity', { enum: ['critical'] }).notNull().default('critical'),
    /** `concurrent_calls`, `call_attempts`, `spend`. */
    kind: text('kind').notNull(),
    clause: text('clause').notNull(),
    /** The decision that tripped it. */
    decisionId: uuid('decision_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: SECURITY_ALERT_STATUSES }).notNull().default('open'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: text('acknowledged_by'),
    note: text('note'),
  },
  (t) => [index('security_alerts_status_idx').on(t.status, t.openedAt), index('security_alerts_client_idx').on(t.clientId)],
);
