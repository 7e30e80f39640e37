import type { DbOrTx } from '../../db/client.ts';
import type { Principal } from '../identity/principal.ts';
import { stripSecrets } from './redact.ts';
import { auditLog } from './schema.ts';

export type AuditActor = Principal | 'system';

export interface AuditEntry {
  actor: AuditActor;
  /** `<entity>.<verb>`, e.g. `account.create`, `client.update`, `access.denied`. */
  action: string;
  entity: string;
  entityId: string | null;
  /** The tenant the entity belongs to (null for staff-only entities). */
  clientId: string | null;
  before: unknown;
  after: unknown;
  /** The contract clause that decided, when a rule did. */
  clause?: string | null;
  requestId?: string | null;
  /** From the injected clock. */
  at: Date;
}

export function actorColumns(actor: AuditActor): {
  actorKind: 'staff' | 'client' | 'token' | 'system';
  actorId: string | null;
  actorLabel: string;
} {
  if (actor === 'system') return { actorKind: 'system', actorId: null, actorLabel: 'system' };
  if (actor.via === 'token') {
    return { actorKind: 'token', actorId: actor.accountId, actorLabel: `${actor.email} (token ${actor.tokenPrefix ?? '?'}…)` };
  }
  return { actorKind: actor.kind, actorId: actor.accountId, actorLabel: actor.email };
}

/**
 * Appends one audit entry. Call it with the transaction that makes the change, so the
 * change and its entry commit (or roll back) together. Secrets are stripped here.
 */
export async function recordAudit(tx: DbOrTx, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    at: entry.at,
    ...actorColumns(entry.actor),
    clientId: entry.clientId,
    action: entry.action,
    entity: entry.entity,
    entityId: entry.entityId,
    before: stripSecrets(entry.before),
    after: stripSecrets(entry.after),
    clause: entry.clause ?? null,
    requestId: entry.requestId ?? null,
  });
}
