import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { forbidden } from '../../kernel/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { auditLog } from './schema.ts';

export const AUDIT_PAGE_MAX = 200;
export const AUDIT_PAGE_DEFAULT = 50;

export interface AuditFilters {
  entity?: string | undefined;
  entityId?: string | undefined;
  clientId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  clause?: string | undefined;
  /** Inclusive lower bound on `at`. */
  from?: Date | undefined;
  /** Exclusive upper bound on `at`. */
  to?: Date | undefined;
  /** Keyset cursor: entries with an id strictly lower (newest first). */
  before?: number | undefined;
  limit?: number | undefined;
}

export interface AuditView {
  id: number;
  at: string;
  actorKind: 'staff' | 'client' | 'token' | 'system';
  actorId: string | null;
  actorLabel: string;
  clientId: string | null;
  action: string;
  entity: string;
  entityId: string | null;
  before: unknown;
  after: unknown;
  clause: string | null;
  requestId: string | null;
}

export interface AuditPage {
  items: AuditView[];
  /** Pass as `before` for the next page; null on the last page. */
  nextCursor: number | null;
}

/** The audit log, newest first, for staff only (§15.3: it spans every tenant). */
export async function listAudit(db: DbOrTx, principal: Principal, filters: AuditFilters = {}): Promise<AuditPage> {
  if (principal.kind !== 'staff') throw forbidden('The audit log is for operator staff');
  const limit = Math.min(Math.max(filters.limit ?? AUDIT_PAGE_DEFAULT, 1), AUDIT_PAGE_MAX);
  const where: SQL[] = [];
  if (filters.entity !== undefined) where.push(eq(auditLog.entity, filters.entity));
  if (filters.entityId !== undefined) where.push(eq(auditLog.entityId, filters.entityId));
  if (filters.clientId !== undefined) where.push(eq(auditLog.clientId, filters.clientId));
  if (filters.actorId !== undefined) where.push(eq(auditLog.actorId, filters.actorId));
  if (filters.action !== undefined) where.push(eq(auditLog.action, filters.action));
  if (filters.clause !== undefined) where.push(eq(auditLog.clause, filters.clause));
  if (filters.from !== undefined) where.push(gte(auditLog.at, filters.from));
  if (filters.to !== undefined) where.push(lt(auditLog.at, filters.to));
  if (filters.before !== undefined) where.push(lt(auditLog.id, filters.before));
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => ({ ...r, at: r.at.toISOString() })),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}
