import type { Principal } from './principal.ts';
import { isStaffRole } from './principal.ts';
import type { Role } from './schema.ts';

/**
 * Who manages which accounts (pure decisions; tenancy is checked separately and first):
 * - staff accounts: staff admin only;
 * - client accounts: staff admin or support, or a client_admin of the same client;
 * - nobody changes their own role nor disables themselves (no self-lock-out, no self-promotion).
 */
export function canManageAccount(principal: Principal, target: { role: Role; clientId: string | null }): boolean {
  if (principal.kind === 'staff') {
    if (isStaffRole(target.role)) return principal.role === 'admin';
    return principal.role === 'admin' || principal.role === 'support';
  }
  return principal.role === 'client_admin' && !isStaffRole(target.role) && target.clientId === principal.clientId;
}

/** Who may read an account: staff; a client_admin for its client's accounts; anyone for themselves. */
export function canReadAccount(principal: Principal, target: { id: string; clientId: string | null }): boolean {
  if (principal.accountId === target.id) return true;
  if (principal.kind === 'staff') return true;
  return principal.role === 'client_admin' && target.clientId === principal.clientId;
}
