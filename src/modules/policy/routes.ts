import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';
import type { AppContext } from '../../context.ts';
import { principalOf } from '../../http/auth.ts';
import { validationError } from '../../kernel/errors.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { SERVICE_STATES } from '../customers/schema.ts';
import { getPolicySettings, POLICY_READ_ROLES, POLICY_WRITE_ROLES, updatePlatformHighRisk, updatePolicySettings } from './client-settings.ts';
import { getDecision, simulateDecision } from './decisions.ts';
import { acknowledgeSecurityAlert, listSecurityAlerts } from './security-alerts.ts';
import { liftSecuritySuspension } from './security-suspension.ts';
import { platformHighRiskPrefixes, POLICY_OPTIONS } from './settings.ts';
import { liftSipBlockAudited, listSipBlockViews } from './sip-blocks.ts';

const Uuid = Type.String({ format: 'uuid' });
const ClientParams = Type.Object({ clientId: Uuid });
const IdParams = Type.Object({ id: Uuid });
const Prefix = Type.String({ pattern: '^\\+[1-9][0-9]{0,14}$', description: 'E.164 prefix, e.g. +881' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([Type.Null(), t]);
/**
 * `T | null` as one JSON-schema `type` list: Ajv then coerces nothing when the value
 * already fits (an `anyOf` with null would turn `false` or `0` into null).
 */
function orNull<T extends TSchema>(t: T): TUnsafe<Static<T> | null> {
  const { type, ...rest } = t as unknown as { type: string };
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [type, 'null'] });
}
const STAFF = ['admin', 'billing', 'support', 'noc'] as const;
const SECURITY_ROLES = ['admin', 'support', 'noc'] as const;

const SettingsFields = {
  maxConcurrentCalls: Type.Integer({ minimum: 0, maximum: 100_000 }),
  attemptsPerUserPerMinute: Type.Integer({ minimum: 0, maximum: 100_000 }),
  spendLimitCentsPerHour: Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'euro cents' }),
  internationalCalls: Type.Boolean(),
  enabled: Type.Array(Type.Enum([...POLICY_OPTIONS]), { maxItems: 2 }),
  highRiskPrefixes: Type.Array(Prefix, { maxItems: 500 }),
};
const SettingsView = Type.Object({
  clientId: Uuid,
  effective: Type.Object({ ...SettingsFields, enabled: Type.Array(Type.String()), highRiskPrefixes: Type.Array(Type.String()) }),
  overrides: Type.Object({
    maxConcurrentCalls: Nullable(SettingsFields.maxConcurrentCalls),
    attemptsPerUserPerMinute: Nullable(SettingsFields.attemptsPerUserPerMinute),
    spendLimitCentsPerHour: Nullable(SettingsFields.spendLimitCentsPerHour),
    internationalCalls: Nullable(SettingsFields.internationalCalls),
    enabled: Nullable(Type.Array(Type.String())),
    highRiskPrefixes: Nullable(Type.Array(Type.String())),
  }),
  countersResetAt: Nullable(Type.String()),
  updatedAt: Nullable(Type.String()),
});
const DecisionView = Type.Object({
  id: Uuid,
  clientId: Uuid,
  userId: Nullable(Type.String()),
  direction: Type.String(),
  dialled: Type.String(),
  destination: Nullable(Type.String()),
  destinationClass: Type.String(),
  perMinuteMicros: Type.Integer(),
  allowed: Type.Boolean(),
  sipStatus: Nullable(Type.Integer()),
  clause: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  callerId: Nullable(Type.String()),
  callerIdReplaced: Type.Boolean(),
  emergency: Type.Boolean(),
  facts: Type.Record(Type.String(), Type.Unknown()),
  startedAt: Type.String(),
  answeredAt: Nullable(Type.String()),
  endedAt: Nullable(Type.String()),
});
const Count = Type.Integer({ minimum: 0 });
const SimulationBody = Type.Object(
  {
    serviceState: Nullable(Type.Enum([...SERVICE_STATES])),
    enabled: Type.Optional(Type.Array(Type.Enum([...POLICY_OPTIONS]))),
    destination: Nullable(Type.String({ minLength: 1, maxLength: 40 })),
    internal: Type.Optional(Type.Boolean()),
    presentedCallerId: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
    privacy: Type.Optional(Type.Boolean()),
    clientNumbers: Type.Optional(Type.Array(Type.String({ maxLength: 20 }), { maxItems: 10_000 })),
    userNumber: Type.Optional(Nullable(Type.String({ maxLength: 20 }))),
    mainNumber: Type.Optional(Nullable(Type.String({ maxLength: 20 }))),
    emergencyNumbers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 10 }), { maxItems: 50 })),
    highRiskPrefixes: Type.Optional(Type.Array(Prefix, { maxItems: 500 })),
    internationalCalls: Type.Optional(Type.Boolean()),
    limits: Type.Optional(
      Type.Object(
        {
          liveOutboundCalls: Count,
          maxConcurrentCalls: Count,
          userAttemptsLastMinute: Count,
          maxAttemptsPerUserPerMinute: Count,
          spendMicrosLastHour: Count,
          maxSpendMicrosPerHour: Count,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
const Reason = Type.String({ minLength: 1, maxLength: 1000 });
const AlertView = Type.Object({
  id: Uuid,
  clientId: Uuid,
  severity: Type.String(),
  kind: Type.String(),
  clause: Type.String(),
  decisionId: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  openedAt: Type.String(),
  acknowledgedAt: Nullable(Type.String()),
  acknowledgedBy: Nullable(Type.String()),
  note: Nullable(Type.String()),
});
const SipBlockView = Type.Object({
  id: Uuid,
  kind: Type.String(),
  key: Type.String(),
  clientId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  blockedAt: Type.String(),
  until: Type.String(),
  liftedAt: Nullable(Type.String()),
  liftedBy: Nullable(Type.String()),
});

/** An optional body `{ [field]: string }` (the body itself may be absent): the text, or a 400 naming the field. */
function optionalText(body: unknown, field: string): string | undefined {
  if (body === undefined || body === null) return undefined;
  const v = typeof body === 'object' ? (body as Record<string, unknown>)[field] : body;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 1000) throw validationError(`/${field}`, 'a text of 1 to 1000 characters');
  return v;
}

/** Call policy (§4.3b, §4.4, §4.10, §8.7, §9.2, §17.1): settings, decisions, simulation, security alerts and suspensions, SIP blocks. */
export const policyRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.get(
    '/clients/:clientId/policy/settings',
    {
      config: { auth: { roles: POLICY_READ_ROLES } },
      schema: { tags: ['policy'], summary: "The client's call policy settings and limits (§4.3b/§4.10)", params: ClientParams, response: { 200: SettingsView } },
    },
    async (request) => getPolicySettings(ctx, { principal: principalOf(request), clientId: request.params.clientId }),
  );

  app.patch(
    '/clients/:clientId/policy/settings',
    {
      config: { auth: { roles: POLICY_WRITE_ROLES } },
      schema: {
        tags: ['policy'],
        summary: 'Change the client\'s call policy settings (staff admin, noc); null resets one to its default',
        params: ClientParams,
        body: Type.Object(
          {
            maxConcurrentCalls: Type.Optional(orNull(SettingsFields.maxConcurrentCalls)),
            attemptsPerUserPerMinute: Type.Optional(orNull(SettingsFields.attemptsPerUserPerMinute)),
            spendLimitCentsPerHour: Type.Optional(orNull(SettingsFields.spendLimitCentsPerHour)),
            internationalCalls: Type.Optional(orNull(SettingsFields.internationalCalls)),
            enabled: Type.Optional(orNull(SettingsFields.enabled)),
            highRiskPrefixes: Type.Optional(orNull(SettingsFields.highRiskPrefixes)),
          },
          { additionalProperties: false },
        ),
        response: { 200: SettingsView },
      },
    },
    async (request) =>
      updatePolicySettings(ctx, { principal: principalOf(request), clientId: request.params.clientId, patch: request.body, requestId: request.id }),
  );

  app.get(
    '/policy/settings',
    {
      config: { auth: { roles: STAFF } },
      schema: { tags: ['policy'], summary: 'Platform call policy settings: the high-risk destination list (§4.3b)', response: { 200: Type.Object({ highRiskPrefixes: Type.Array(Type.String()) }) } },
    },
    async () => ({ highRiskPrefixes: await platformHighRiskPrefixes(ctx.db) }),
  );

  app.patch(
    '/policy/settings',
    {
      config: { auth: { roles: POLICY_WRITE_ROLES } },
      schema: {
        tags: ['policy'],
        summary: 'Change the platform call policy settings: replace the high-risk destination list (staff admin, noc; audited)',
        body: Type.Object({ highRiskPrefixes: SettingsFields.highRiskPrefixes }, { additionalProperties: false }),
        response: { 200: Type.Object({ highRiskPrefixes: Type.Array(Type.String()) }) },
      },
    },
    async (request) => updatePlatformHighRisk(ctx, { principal: principalOf(request), prefixes: request.body.highRiskPrefixes, requestId: request.id }),
  );

  app.get(
    '/policy/decisions/:id',
    {
      schema: { tags: ['policy'], summary: 'One call decision with its facts and clause (a client sees its own only)', params: IdParams, response: { 200: DecisionView } },
    },
    async (request) => getDecision(ctx.db, { principal: principalOf(request), id: request.params.id }),
  );

  app.post(
    '/policy/simulate',
    {
      config: { auth: { roles: STAFF } },
      schema: {
        tags: ['policy'],
        summary: 'Simulate a call decision from facts (staff); nothing is read or recorded',
        body: SimulationBody,
        response: {
          200: Type.Object({
            destinationClass: Type.String(),
            decision: Type.Object({
              allowed: Type.Boolean(),
              sipStatus: Type.Optional(Type.Integer()),
              clause: Type.Optional(Type.String()),
              reason: Type.Optional(Type.String()),
              callerId: Type.Optional(Nullable(Type.String())),
              callerIdReplaced: Type.Optional(Type.Boolean()),
              emergency: Type.Optional(Type.Boolean()),
              trip: Type.Optional(Type.Object({ limit: Type.String(), clause: Type.String(), observed: Type.Integer(), max: Type.Integer() })),
            }),
          }),
        },
      },
    },
    async (request) => simulateDecision(request.body),
  );

  app.post(
    '/clients/:clientId/security-suspension/lift',
    {
      config: { auth: { roles: POLICY_WRITE_ROLES } },
      schema: {
        tags: ['policy'],
        summary: 'Lift a security suspension (§9.2) with a reason (staff admin, noc)',
        params: ClientParams,
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: Type.Object({ serviceState: Type.Literal('active') }) },
      },
    },
    async (request) =>
      liftSecuritySuspension(ctx.db, {
        clientId: request.params.clientId,
        actor: principalOf(request),
        reason: request.body.reason,
        at: ctx.clock.now(),
        requestId: request.id,
      }),
  );

  app.get(
    '/security-alerts',
    {
      config: { auth: { roles: SECURITY_ROLES } },
      schema: {
        tags: ['policy'],
        summary: 'Critical security alerts (fraud limits §4.3b/§4.10), newest first',
        querystring: Type.Object(
          { status: Type.Optional(Type.Enum(['open', 'acknowledged'])), clientId: Type.Optional(Uuid) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AlertView) }) },
      },
    },
    async (request) => ({ items: await listSecurityAlerts(ctx.db, request.query) }),
  );

  app.post(
    '/security-alerts/:id/acknowledge',
    {
      config: { auth: { roles: SECURITY_ROLES } },
      schema: {
        tags: ['policy'],
        summary: 'Acknowledge a security alert',
        params: IdParams,
        response: { 200: AlertView },
      },
    },
    async (request) =>
      acknowledgeSecurityAlert(ctx.db, { id: request.params.id, actor: principalOf(request), note: optionalText(request.body, 'note'), at: ctx.clock.now(), requestId: request.id }),
  );

  app.get(
    '/sip-blocks',
    {
      config: { auth: { roles: SECURITY_ROLES } },
      schema: {
        tags: ['policy'],
        summary: 'SIP brute-force blocks (§4.4/§4.10): active ones, or all with all=true',
        querystring: Type.Object({ all: Type.Optional(Type.Boolean()), clientId: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(SipBlockView) }) },
      },
    },
    async (request) => ({ items: await listSipBlockViews(ctx.db, ctx.clock.now(), request.query) }),
  );

  app.post(
    '/sip-blocks/:id/lift',
    {
      config: { auth: { roles: POLICY_WRITE_ROLES } },
      schema: {
        tags: ['policy'],
        summary: 'Lift an active SIP block before its end (staff admin, noc)',
        params: IdParams,
        response: { 200: SipBlockView },
      },
    },
    async (request) =>
      liftSipBlockAudited(ctx.db, { id: request.params.id, actor: principalOf(request), reason: optionalText(request.body, 'reason'), at: ctx.clock.now(), requestId: request.id }),
  );
};
