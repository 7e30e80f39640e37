import { AppError } from '../../kernel/errors.ts';
import type { Principal } from './principal.ts';

/**
 * Tenancy (§15.3), one rule for the whole platform:
 *
 *   A client principal only ever reaches rows of its own client. Anything that belongs
 *   to another tenant — a row by id, a `:clientId` path, a `clientId` filter — is
 *   answered 404 NOT_FOUND, exactly as if it did not exist, so ids never leak.
 *   Staff reach every tenant (their role still limits what they may do).
 *   Every such refusal is an AccessDenied error, which the HTTP layer records in the
 *   audit log (`access.denied`, with the target and its tenant) and in the security log.
 *
 * Role refusals ("a client_user may not manage accounts") are 403 FORBIDDEN, also
 * AccessDenied so they are recorded the same way.
 */
export interface AccessTarget {
  entity: string;
  entityId: string | null;
  /** The tenant owning the target, when known. */
  clientId: string | null;
}

export class AccessDenied extends AppError {
  readonly target: AccessTarget;
  readonly reason: 'tenant' | 'role';

  constructor(reason: 'tenant' | 'role', target: AccessTarget, message?: string) {
    super(
      reason === 'tenant' ? 'not_found' : 'forbidden',
      reason === 'tenant'
        ? { code: 'NOT_FOUND', message: target.entityId ? `${target.entity} ${target.entityId} not found` : `${target.entity} not found` }
        : { code: 'FORBIDDEN', message: message ?? 'You are not allowed to do this' },
    );
    this.name = 'AccessDenied';
    this.target = target;
    this.reason = reason;
  }
}

/** 404 for another tenant's target (see the rule above). */
export const tenantDenied = (target: AccessTarget): AccessDenied => new AccessDenied('tenant', target);

/** 403 for a role that may not do this. */
export const roleDenied = (target: AccessTarget, message?: string): AccessDenied => new AccessDenied('role', target, message);

/** True when the principal may see rows of `clientId` (staff: always; client: its own only). */
export const canReachTenant = (principal: Principal, clientId: string | null): boolean =>
  principal.kind === 'staff' || (clientId !== null && clientId === principal.clientId);

/**
 * Throws the 404 AccessDenied unless the principal may reach a row owned by `rowClientId`
 * (null = a staff-only row: never reachable by a client).
 */
export function assertTenant(principal: Principal, rowClientId: string | null, target: Omit<AccessTarget, 'clientId'>): void {
  if (!canReachTenant(principal, rowClientId)) throw tenantDenied({ ...target, clientId: rowClientId });
}

/**
 * The client filter a query must apply: a client principal is always pinned to its own
 * client (asking for another one is the 404 refusal); staff get what they asked (undefined = all).
 */
export function scopeClientId(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.kind === 'staff') return requested;
  const own = principal.clientId;
  if (own === null) throw roleDenied({ entity: 'client', entityId: requested ?? null, clientId: null });
  if (requested !== undefined && requested !== own) throw tenantDenied({ entity: 'client', entityId: requested, clientId: requested });
  return own;
}
