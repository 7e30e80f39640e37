import { parseEnterpriseNumber } from '../../kernel/enterprise-number.ts';
import { validationError } from '../../kernel/errors.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { roleDenied } from '../identity/tenancy.ts';

/** Who may create clients: staff admin. Who may edit them: staff admin, billing, support. */
export const CLIENT_CREATE_ROLES = ['admin'] as const;
export const CLIENT_UPDATE_ROLES = ['admin', 'billing', 'support'] as const;

export function assertRole(principal: AuditActor, roles: readonly string[], entityId: string | null, clientId: string | null): void {
  if (principal === 'system') return;
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

export interface AddressInput {
  street: string;
  postalCode: string;
  city: string;
  country?: string | undefined;
}

/** A client's fields a staff member may give at creation (createClient) and change later (updateClient). */
export interface ClientFields {
  enterpriseNumber?: string | null | undefined;
  language?: 'fr' | 'nl' | 'en' | undefined;
  billingEmail?: string | null | undefined;
  legalName?: string | null | undefined;
  address?: AddressInput | null | undefined;
  /** §5.3 deposit, cents. */
  depositCents?: number | undefined;
}

/** A postal address, trimmed; country defaults to BE. */
export function normalizeAddress(a: AddressInput, field: string): { street: string; postalCode: string; city: string; country: string } {
  const out = { street: a.street.trim(), postalCode: a.postalCode.trim(), city: a.city.trim(), country: (a.country ?? 'BE').trim().toUpperCase() };
  for (const k of ['street', 'postalCode', 'city'] as const) if (out[k] === '') throw validationError(`${field}/${k}`, 'must not be empty');
  if (!/^[A-Z]{2}$/.test(out.country)) throw validationError(`${field}/country`, 'must be an ISO 3166-1 alpha-2 code');
  return out;
}

/** §5.3: a deposit is a whole number of cents ≥ 0. */
export function checkDeposit(cents: number): number {
  if (!Number.isSafeInteger(cents) || cents < 0) throw validationError('/depositCents', 'must be a whole number of cents ≥ 0');
  return cents;
}
