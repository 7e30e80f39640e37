import { parseEnterpriseNumber } from '../../kernel/enterprise-number.ts';
import { validationError } from '../../kernel/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { roleDenied } from '../identity/tenancy.ts';

/** Who may create clients: staff admin. Who may edit them: staff admin, billing, support. */
export const CLIENT_CREATE_ROLES = ['admin'] as const;
export const CLIENT_UPDATE_ROLES = ['admin', 'billing', 'support'] as const;

export function assertRole(principal: Principal, roles: readonly string[], entityId: string | null, clientId: string | null): void {
  if (!roles.includes(principal.role)) throw roleDenied({ entity: 'client', entityId, clientId });
}

/** The enterprise number in its canonical 10-digit form; null stays null (§1 check digits). */
export function normalizeEnterpriseNumber(input: string | null | undefined): string | null | undefined {
  if (input === undefined || input === null) return input;
  const parsed = parseEnterpriseNumber(input);
  if (!parsed) throw validationError('/enterpriseNumber', 'is not a valid Belgian enterprise number', 'INVALID_ENTERPRISE_NUMBER');
  return parsed.digits;
}

export function normalizeName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw validationError('/name', 'must not be empty');
  return trimmed;
}
