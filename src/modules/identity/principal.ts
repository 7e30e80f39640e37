import { CLIENT_ROLES, STAFF_ROLES, type ClientRole, type Role, type StaffRole } from './schema.ts';

/**
 * API token scopes. A token acts as its owner, restricted to its scopes:
 * - `read`  : safe methods (GET/HEAD) of every route the owner may use;
 * - `write` : also the mutations (POST/PATCH/PUT/DELETE), except identity management;
 * - `admin` : also identity management (accounts, tokens); implies `write`.
 * Each route declares the scope it needs (default: `read` for GET/HEAD, `write` otherwise).
 * Per-family scopes (`billing:read`…) can be added here later without changing the check.
 */
export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof TOKEN_SCOPES)[number];

const IMPLIED: Record<Scope, readonly Scope[]> = {
  read: ['read'],
  write: ['read', 'write'],
  admin: ['read', 'write', 'admin'],
};

/** Who is calling: resolved once per request by the HTTP auth layer, passed to every service. */
export interface Principal {
  kind: 'staff' | 'client';
  accountId: string;
  email: string;
  role: Role;
  /** The tenant of a client principal; null for staff. */
  clientId: string | null;
  via: 'session' | 'token';
  /** The token's scopes; every scope for a session. */
  scopes: readonly Scope[];
  /** The token used (via = 'token'); its display prefix is in `tokenPrefix`. */
  tokenId?: string;
  tokenPrefix?: string;
  /** The session used (via = 'session'): the SHA-256 of its cookie, i.e. the sessions.id. */
  sessionId?: string;
}

export const isStaffRole = (role: string): role is StaffRole => (STAFF_ROLES as readonly string[]).includes(role);
export const isClientRole = (role: string): role is ClientRole => (CLIENT_ROLES as readonly string[]).includes(role);

export const isStaff = (p: Principal): boolean => p.kind === 'staff';

export function hasScope(p: Principal, needed: Scope): boolean {
  return p.scopes.some((s) => IMPLIED[s].includes(needed));
}

export function principalFor(
  account: { id: string; email: string; role: Role; clientId: string | null },
  via: Principal['via'],
  extra: Partial<Pick<Principal, 'scopes' | 'tokenId' | 'tokenPrefix' | 'sessionId'>> = {},
): Principal {
  return {
    kind: isStaffRole(account.role) ? 'staff' : 'client',
    accountId: account.id,
    email: account.email,
    role: account.role,
    clientId: isStaffRole(account.role) ? null : account.clientId,
    via,
    scopes: extra.scopes ?? TOKEN_SCOPES,
    ...(extra.tokenId ? { tokenId: extra.tokenId } : {}),
    ...(extra.tokenPrefix ? { tokenPrefix: extra.tokenPrefix } : {}),
    ...(extra.sessionId ? { sessionId: extra.sessionId } : {}),
  };
}
