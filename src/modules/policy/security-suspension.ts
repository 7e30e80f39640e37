/**
 * §9.2 security suspension by the live limits (§4.3b/§4.10) and its lifting by staff.
 * Tripping, in the caller's transaction (the one that holds the client's policy lock):
 * service state `security_suspended`, events `fraud_alert` and `security_suspension`
 * (clause 9.2, RULES.md "Event clauses"), an audit entry, a critical security alert for
 * staff (stands in for the critical ticket until the support module exists) and a
 * `notice` event for the client (kind `security_alert`; the notices outbox sends it later).
 */
import { eq, sql } from 'drizzle-orm';
import { notifyChange } from '../../db/changes.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { conflict, notFound } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { clients } from '../customers/schema.ts';
import { serviceStateOf, setServiceState } from '../customers/service-state.ts';
import { recordEvent } from '../events/index.ts';
import type { Trip } from './call-decision.ts';
import { policyClientSettings, securityAlerts } from './schema.ts';

/** Serialises every policy write of one client across nodes (PostgreSQL advisory lock, released at commit). */
export async function lockClientPolicy(tx: DbOrTx, clientId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`policy|${clientId}`}))`);
}

/** Suspends the client for a crossed limit; no-op unless the client is `active`. Returns the alert id. */
export async function tripSecuritySuspension(
  tx: DbOrTx,
  o: { clientId: string; at: Date; trip: Trip; decisionId: string | null },
): Promise<string | null> {
  if ((await serviceStateOf(tx, o.clientId)) !== 'active') return null;
  const { trip, at, clientId } = o;
  const details = { limit: trip.limit, limitClause: trip.clause, observed: trip.observed, max: trip.max, decisionId: o.decisionId };
  await setServiceState(tx, clientId, 'security_suspended');
  await notifyChange(tx, 'client', clientId); // issue #7: every node's facts cache, this one at once
  const alertId = newId(at);
  await tx.insert(securityAlerts).values({ id: alertId, clientId, kind: trip.limit, clause: trip.clause, decisionId: o.decisionId, details, openedAt: at });
  await recordEvent(tx, { at, clientId, type: 'fraud_alert', clause: '9.2', details: { ...details, alertId } });
  await recordEvent(tx, { at, clientId, type: 'security_suspension', clause: '9.2', details: { serviceState: 'security_suspended', reason: trip.limit, alertId } });
  await recordAudit(tx, {
    at,
    actor: 'system',
    action: 'client.security_suspend',
    entity: 'client',
    entityId: clientId,
    clientId,
    before: { serviceState: 'active' },
    after: { serviceState: 'security_suspended', ...details, alertId },
    clause: '9.2',
  });
  // RULES.md "Notices": security alert to the client; the record comes first, the outbox later.
  await recordEvent(tx, { at, clientId, type: 'notice', clause: '9.2', details: { kind: 'security_alert', to: 'client', alertId, limit: trip.limit } });
  return alertId;
}

/**
 * Staff lift a security suspension (§9.2) with a reason: the client is `active` again,
 * its attempt and spend counters restart now (the traffic that tripped the limit does
 * not trip it again), event `security_suspension_lifted` and audit entry, clause 9.2.
 */
export async function liftSecuritySuspension(
  db: Db,
  o: { clientId: string; actor: AuditActor; reason: string; at: Date; requestId?: string | null },
): Promise<{ serviceState: 'active' }> {
  return db.transaction(async (tx) => {
    const [client] = await tx.select({ id: clients.id }).from(clients).where(eq(clients.id, o.clientId)).limit(1);
    if (!client) throw notFound('client', o.clientId);
    await lockClientPolicy(tx, o.clientId);
    const state = await serviceStateOf(tx, o.clientId);
    if (state !== 'security_suspended') {
      throw conflict('NOT_SECURITY_SUSPENDED', `The client is not in security suspension (service state ${state ?? 'unknown'})`, '9.2');
    }
    await setServiceState(tx, o.clientId, 'active');
    await notifyChange(tx, 'client', o.clientId); // issue #7: the next call on this node sees it
    await tx
      .insert(policyClientSettings)
      .values({ clientId: o.clientId, countersResetAt: o.at, updatedAt: o.at })
      .onConflictDoUpdate({ target: policyClientSettings.clientId, set: { countersResetAt: o.at, updatedAt: o.at } });
    const by = o.actor === 'system' ? 'system' : o.actor.email;
    await recordEvent(tx, { at: o.at, clientId: o.clientId, type: 'security_suspension_lifted', clause: '9.2', details: { by, reason: o.reason, serviceState: 'active' } });
    await recordAudit(tx, {
      at: o.at,
      actor: o.actor,
      action: 'client.security_suspension_lift',
      entity: 'client',
      entityId: o.clientId,
      clientId: o.clientId,
      before: { serviceState: 'security_suspended' },
      after: { serviceState: 'active', reason: o.reason },
      clause: '9.2',
      requestId: o.requestId ?? null,
    });
    return { serviceState: 'active' as const };
  });
}
