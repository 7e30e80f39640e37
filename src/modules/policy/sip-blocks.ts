/**
 * Staff view of the SIP brute-force blocks (§4.4/§4.10, src/telephony/brute-force.ts):
 * list, and lift with an audit entry. The lift is recorded by `liftSipBlock` (event
 * `security_block_lifted`); every SIP node drops the block at its next refresh (≤ 5 s).
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import { liftSipBlock, listSipBlocks, type SipBlock } from '../../telephony/brute-force.ts';
import { sipBlocks } from '../../telephony/brute-force-schema.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';

export interface SipBlockView {
  id: string;
  kind: string;
  key: string;
  clientId: string | null;
  reason: string | null;
  blockedAt: string;
  until: string;
  liftedAt: string | null;
  liftedBy: string | null;
}

const toView = (b: SipBlock): SipBlockView => ({
  ...b,
  blockedAt: b.blockedAt.toISOString(),
  until: b.until.toISOString(),
  liftedAt: b.liftedAt?.toISOString() ?? null,
});

export async function listSipBlockViews(db: Db, now: Date, o: { all?: boolean | undefined; clientId?: string | undefined }): Promise<SipBlockView[]> {
  return (await listSipBlocks(db, now, { ...(o.all ? { all: true } : {}), ...(o.clientId ? { clientId: o.clientId } : {}) })).map(toView);
}

/** Lifts an active block; 404 when no active block has that id. */
export async function liftSipBlockAudited(
  db: Db,
  o: { id: string; actor: AuditActor; reason?: string | undefined; at: Date; requestId?: string },
): Promise<SipBlockView> {
  const by = o.actor === 'system' ? 'system' : o.actor.email;
  if (!(await liftSipBlock(db, o.id, { at: o.at, by }))) throw notFound('active SIP block', o.id);
  const [row] = await db.select().from(sipBlocks).where(eq(sipBlocks.id, o.id));
  await recordAudit(db, {
    at: o.at,
    actor: o.actor,
    action: 'sip_block.lift',
    entity: 'sip_block',
    entityId: o.id,
    clientId: row!.clientId,
    before: { kind: row!.kind, key: row!.key, until: row!.until.toISOString() },
    after: { liftedAt: o.at.toISOString(), liftedBy: by, reason: o.reason ?? null },
    clause: '4.4',
    requestId: o.requestId ?? null,
  });
  return toView(row!);
}
