/**
 * The identity module's public service API (other modules import from here, never its tables).
 * Accounts, roles, sessions, API tokens, TOTP, login throttling and the tenancy rule.
 */
export type { Principal, Scope } from './principal.ts';
export { TOKEN_SCOPES, hasScope, isStaff, isStaffRole, isClientRole } from './principal.ts';
export { STAFF_ROLES, CLIENT_ROLES, type Role, type StaffRole, type ClientRole } from './schema.ts';
export { AccessDenied, assertTenant, canReachTenant, roleDenied, scopeClientId, tenantDenied, type AccessTarget } from './tenancy.ts';
export { authenticateSession, authenticateToken } from './authenticate.ts';
export { login, type LoginOptions, type LoginResult } from './login.ts';
export { logout } from './logout.ts';
export { setupTotp } from './totp-setup.ts';
export { enableTotp } from './totp-enable.ts';
export { createToken } from './create-token.ts';
export { listTokens } from './list-tokens.ts';
export { revokeToken } from './revoke-token.ts';
export { createAccount } from './create-account.ts';
export { listAccounts } from './list-accounts.ts';
export { getAccount } from './get-account.ts';
export { updateAccount } from './update-account.ts';
export { changePassword } from './change-password.ts';
export { ensureFirstAdmin, type EnsureFirstAdminResult } from './first-admin.ts';
export { toAccountView, type AccountView } from './account-view.ts';
export type { TokenView } from './token-view.ts';
export { identityRoutes } from './routes.ts';
export { pruneAuthState } from './prune.ts';
