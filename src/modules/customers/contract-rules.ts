import { conflict, notFound, RuleViolation } from '../../kernel/errors.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { roleDenied } from '../identity/tenancy.ts';
import type { ContractRow } from './contract-store.ts';

/** Staff roles: contracts (sign, terminate) by admin and billing; installations by admin, support, noc. */
export const CONTRACT_WRITE_ROLES = ['admin', 'billing'] as const;
export const INSTALLATION_ROLES = ['admin', 'support', 'noc'] as const;
export const NOTICE_ROLES = ['admin', 'billing', 'support'] as const;
export const ENABLE_OPTIONS = ['premium', 'international'] as const;

export function assertActorRole(actor: AuditActor, roles: readonly string[], entity: string, entityId: string | null, clientId: string | null): void {
  if (actor === 'system') return;
  if (!roles.includes(actor.role)) throw roleDenied({ entity, entityId, clientId });
}

/** §13.1: nothing more is done for a terminated client. */
export function assertNotTerminated(c: ContractRow | undefined): void {
  if (c?.state === 'terminated') throw new RuleViolation('CLIENT_TERMINATED', '13.1', 'The client is terminated: its service has stopped');
}

/** §2.2: the contract must be signed (a draft or no contract is refused). */
export function assertSigned(c: ContractRow | undefined, what: string): asserts c is ContractRow {
  if (!c || c.state === 'draft') throw new RuleViolation('CONTRACT_NOT_SIGNED', '2.2', `${what}: the client has no signed contract`);
}

export function requireContract(c: ContractRow | undefined, clientId: string): ContractRow {
  if (!c) throw notFound('contract of client', clientId);
  return c;
}

export const contractConflict = (message: string): ReturnType<typeof conflict> => conflict('CONTRACT_STATE', message);
