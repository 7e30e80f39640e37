/**
 * Critical security alerts (§4.3b/§4.10, §9.2) for staff: list and acknowledge (audited).
 * They stand in for the critical tickets of RULES.md until the support module exists.
 */
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { conflict, notFound } from '../../kernel/errors.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { securityAlerts } from './schema.ts';

export interface SecurityAlertView {
  id: string;
  clientId: string;
  severity: string;
  kind: string;
  clause: string;
  decisionId: string | null;
  details: Record<string, unknown>;
  status: string;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  note: string | null;
}

const toView = (r: typeof securityAlerts.$inferSelect): SecurityAlertView => ({
  ...r,
  openedAt: r.openedAt.toISOString(),
  acknowledgedAt: r.acknowledgedAt?.toISOString() ?? null,
});

export async function listSecurityAlerts(db: DbOrTx, o: { status?: 'open' | 'acknowledged' | undefined; clientId?: string | undefined }): Promise<SecurityAlertView[]> {
  const where: SQL[] = [];
  if (o.status) where.push(eq(securityAlerts.status, o.status));
  if (o.clientId) where.push(eq(securityAlerts.clientId, o.clientId));
  const rows = await db
    .select()
    .from(securityAlerts)
    .where(and(...where))
    .orderBy(desc(securityAlerts.openedAt), desc(securityAlerts.id))
    .limit(500);
  return rows.map(toView);
}

export async function acknowledgeSecurityAlert(
  db: Db,
  o: { id: string; actor: AuditActor; note?: string | undefined; at: Date; requestId?: string },
): Promise<SecurityAlertView> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(securityAlerts).where(eq(securityAlerts.id, o.id)).for('update');
    if (!current) throw notFound('security alert', o.id);
    if (current.status !== 'open') throw conflict('ALERT_ALREADY_ACKNOWLEDGED', 'This security alert is already acknowledged');
    const by = o.actor === 'system' ? 'system' : o.actor.email;
    const [row] = await tx
      .update(securityAlerts)
      .set({ status: 'acknowledged', acknowledgedAt: o.at, acknowledgedBy: by, note: o.note ?? null })
      .where(eq(securityAlerts.id, o.id))
      .returning();
    await recordAudit(tx, {
      at: o.at,
      actor: o.actor,
      action: 'security_alert.acknowledge',
      entity: 'security_alert',
      entityId: o.id,
      clientId: current.clientId,
      before: { status: 'open' },
      after: { status: 'acknowledged', note: o.note ?? null },
      clause: current.clause,
      requestId: o.requestId ?? null,
    });
    return toView(row!);
  });
}
