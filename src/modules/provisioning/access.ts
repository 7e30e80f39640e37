import type { DbOrTx } from '../../db/client.ts';
import { RuleViolation } from '../../kernel/errors.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { contractStatusOf, type ContractState } from '../customers/contract-status.ts';
import type { Principal } from '../identity/principal.ts';
import { assertTenant, roleDenied } from '../identity/tenancy.ts';

/**
 * Who acts on provisioning: a principal (HTTP) or the platform itself (`system`: scenario
 * runner, jobs, other modules), which has staff rights.
 */
export type Actor = AuditActor;

/** Users and numbers of a client: staff admin/support and the client's admin. */
export const PROVISION_ROLES = ['admin', 'support', 'client_admin'] as const;
/** Number inventory import: staff only. */
export const INVENTORY_ROLES = ['admin', 'noc'] as const;
/** Cancelling a reservation (§3.6), listing the whole inventory: staff. */
export const STAFF_NUMBER_ROLES = ['admin', 'support', 'noc'] as const;

export const isStaffActor = (actor: Actor): boolean => actor === 'system' || actor.kind === 'staff';

/** The tenant check (404 for another tenant, recorded) then the role check (403). */
export function assertClientAccess(actor: Actor, clientId: string, roles: readonly string[] | null, entity = 'client', entityId: string = clientId): void {
  if (actor === 'system') return;
  assertTenant(actor, clientId, { entity, entityId });
  if (roles && !roles.includes(actor.role)) throw roleDenied({ entity, entityId, clientId }, 'Your role may not do this');
}

export function assertStaffRole(actor: Actor, roles: readonly string[], entity: string, entityId: string | null): void {
  if (actor === 'system') return;
  if (!roles.includes(actor.role)) throw roleDenied({ entity, entityId, clientId: actor.clientId }, 'Your role may not do this');
}

const SIGNED: readonly ContractState[] = ['signed', 'active', 'indefinite', 'terminating'];

/**
 * §2.2 nothing is provisioned before the contract is signed; §13.1 nor after termination.
 * Pure: the decision from the contract state.
 */
export function provisioningRefusal(state: ContractState): RuleViolation | null {
  if (state === 'terminated') return new RuleViolation('CLIENT_TERMINATED', '13.1', 'The client is terminated: nothing can be provisioned (§13.1)');
  if (!SIGNED.includes(state)) return new RuleViolation('CONTRACT_NOT_SIGNED', '2.2', 'The client has no signed contract: nothing is provisioned before signature (§2.2)');
  return null;
}

export async function assertProvisioningAllowed(db: DbOrTx, clientId: string): Promise<void> {
  const refusal = provisioningRefusal((await contractStatusOf(db, clientId)).state);
  if (refusal) throw refusal;
}

/** §13.1 only (reservations may precede the signature, §3.6). */
export async function assertNotTerminated(db: DbOrTx, clientId: string): Promise<void> {
  if ((await contractStatusOf(db, clientId)).state === 'terminated') {
    throw new RuleViolation('CLIENT_TERMINATED', '13.1', 'The client is terminated (§13.1)');
  }
}

export type { Principal };
