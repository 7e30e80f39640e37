/**
 * Staff suspension and reactivation by hand (§9.1c, §9.2), with a recorded reason:
 * - §9.1c (a breach of §4): the client goes to minimum service (§8.7: emergency only);
 *   event `suspension`, clause 9.1c;
 * - §9.2 (security): `security_suspended` (outbound non-emergency blocked); event
 *   `security_suspension`, clause 9.2.
 * A staff suspension is lifted only by staff (never by a payment). Reactivation by staff
 * lifts every open suspension and a `security_suspended` state set by fraud detection;
 * event `reactivation` with the clause staff give (default: 9.2 from a security
 * suspension, else 9.1c), the actor and the reason. A dunning suspension lifted this way
 * comes back at the next daily evaluation if the overdue amount is still unpaid and
 * uncovered (§9.1a) — settle it with a payment or a §9.3 guarantee instead.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { conflict, notFound, RuleViolation, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { localDate } from '../../kernel/time.ts';
import { actorColumns, recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { serviceStateOf, setServiceState } from '../customers/service-state.ts';
import { recordEvent } from '../events/index.ts';
import { lockClient } from './record-payment.ts';
import { suspensions } from './schema.ts';

export const STAFF_SUSPENSION_CLAUSES = ['9.1c', '9.2'] as const;
export type StaffSuspensionClause = (typeof STAFF_SUSPENSION_CLAUSES)[number];

export interface ServiceStateChange {
  clientId: string;
  serviceState: string;
  clause: string;
  reason: string;
  at: string;
}

function checkReason(reason: string | undefined): string {
  const r = reason?.trim() ?? '';
  if (r === '') throw validationError('/reason', 'a reason is required (recorded with the decision)');
  if (r.length > 500) throw validationError('/reason', 'at most 500 characters');
  return r;
}

export async function suspendClient(ctx: AppContext, opts: { actor: AuditActor; clientId: string; clause: string; reason: string | undefined; requestId?: string | undefined }): Promise<ServiceStateChange> {
  const clause = STAFF_SUSPENSION_CLAUSES.find((c) => c === opts.clause);
  if (!clause) throw validationError('/clause', `a staff suspension is under ${STAFF_SUSPENSION_CLAUSES.join(' or ')}`);
  const reason = checkReason(opts.reason);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await serviceStateOf(tx, opts.clientId);
    if (before === null) throw notFound('client', opts.clientId);
    if (before === 'terminated') throw new RuleViolation('CLIENT_TERMINATED', '13.1', 'The client is terminated: its service has stopped');
    await lockClient(tx, opts.clientId);
    const open = await tx.select().from(suspensions).where(and(eq(suspensions.clientId, opts.clientId), isNull(suspensions.reactivatedAt), eq(suspensions.kind, 'staff')));
    if ((clause === '9.2' && before === 'security_suspended') || open.some((s) => s.clause === clause)) {
      throw conflict('ALREADY_SUSPENDED', `The client is already suspended under §${clause}`, clause);
    }
    const state = clause === '9.2' ? 'security_suspended' : 'minimum_service';
    const actor = actorColumns(opts.actor).actorLabel;
    await tx.insert(suspensions).values({ id: newId(now), clientId: opts.clientId, kind: 'staff', clause, reason, actor, suspendedAt: now, suspendedOn: localDate(now) });
    await setServiceState(tx, opts.clientId, state);
    await recordEvent(tx, { at: now, clientId: opts.clientId, type: clause === '9.2' ? 'security_suspension' : 'suspension', clause, details: { serviceState: state, reason, actor } });
    await recordAudit(tx, { at: now, actor: opts.actor, action: 'client.suspend', entity: 'client', entityId: opts.clientId, clientId: opts.clientId, before: { serviceState: before }, after: { serviceState: state, reason }, clause, requestId: opts.requestId ?? null });
    return { clientId: opts.clientId, serviceState: state, clause, reason, at: now.toISOString() };
  });
}

export async function reactivateClient(ctx: AppContext, opts: { actor: AuditActor; clientId: string; clause?: string | undefined; reason: string | undefined; requestId?: string | undefined }): Promise<ServiceStateChange> {
  const reason = checkReason(opts.reason);
  if (opts.clause !== undefined && !/^\d+(\.\d+)?[a-z]?$/.test(opts.clause)) throw validationError('/clause', 'a clause such as 9.2 or 9.1c');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await serviceStateOf(tx, opts.clientId);
    if (before === null) throw notFound('client', opts.clientId);
    if (before === 'terminated') throw new RuleViolation('CLIENT_TERMINATED', '13.1', 'The client is terminated: its service has stopped');
    await lockClient(tx, opts.clientId);
    const open = await tx.select().from(suspensions).where(and(eq(suspensions.clientId, opts.clientId), isNull(suspensions.reactivatedAt)));
    if (before === 'active' && open.length === 0) throw conflict('NOT_SUSPENDED', 'The client is not suspended');
    const clause = opts.clause ?? (before === 'security_suspended' ? '9.2' : (open.find((s) => s.kind === 'staff')?.clause ?? open[0]?.clause ?? '9.1c'));
    for (const s of open) await tx.update(suspensions).set({ reactivatedAt: now, reactivationReason: reason }).where(eq(suspensions.id, s.id));
    await setServiceState(tx, opts.clientId, 'active');
    const actor = actorColumns(opts.actor).actorLabel;
    await recordEvent(tx, { at: now, clientId: opts.clientId, type: 'reactivation', clause, details: { serviceState: 'active', reason, actor, lifted: open.map((s) => s.clause) } });
    await recordAudit(tx, { at: now, actor: opts.actor, action: 'client.reactivate', entity: 'client', entityId: opts.clientId, clientId: opts.clientId, before: { serviceState: before }, after: { serviceState: 'active', reason }, clause, requestId: opts.requestId ?? null });
    return { clientId: opts.clientId, serviceState: 'active', clause, reason, at: now.toISOString() };
  });
}
