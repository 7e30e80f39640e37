import { validationError } from '../../kernel/errors.ts';
import { isLocalDate } from '../../kernel/time.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { roleDenied } from '../identity/tenancy.ts';
import type { ProductKind, ProductUnit } from './schema.ts';

/** Who may change the catalogue: staff admin and billing. Everybody authenticated may read it. */
export const CATALOG_WRITE_ROLES = ['admin', 'billing'] as const;

export function assertCatalogWriter(actor: AuditActor, entityId: string | null): void {
  if (actor === 'system') return;
  if (!(CATALOG_WRITE_ROLES as readonly string[]).includes(actor.role)) throw roleDenied({ entity: 'catalog', entityId, clientId: null });
}

/** A product's shape by kind (§1, §8.1): units for recurring/pack, warranty for hardware, pack content for packs. */
export function checkProductShape(p: {
  kind: ProductKind;
  unit?: ProductUnit | null | undefined;
  warrantyMonths?: number | null | undefined;
  packMinutes?: number | null | undefined;
  packZones?: string[] | null | undefined;
}): { unit: ProductUnit | null; warrantyMonths: number | null; packMinutes: number | null; packZones: string[] | null } {
  switch (p.kind) {
    case 'recurring':
      if (!p.unit) throw validationError('/unit', 'is required for a recurring product (user, national_number, international_number, fixed)');
      return { unit: p.unit, warrantyMonths: null, packMinutes: null, packZones: null };
    case 'pack':
      if (p.unit && p.unit !== 'fixed') throw validationError('/unit', 'a pack is counted per contract line (fixed)');
      if (p.packMinutes === undefined || p.packMinutes === null) throw validationError('/minutes', 'is required for a pack');
      if (!p.packZones || p.packZones.length === 0) throw validationError('/zones', 'is required for a pack');
      return { unit: 'fixed', warrantyMonths: null, packMinutes: p.packMinutes, packZones: p.packZones };
    case 'hardware':
      return { unit: null, warrantyMonths: p.warrantyMonths ?? 12, packMinutes: null, packZones: null };
    case 'one_off':
      return { unit: null, warrantyMonths: null, packMinutes: null, packZones: null };
  }
}

const PREFIX = /^\+\d{1,15}$/;
export function checkPrefixes(prefixes: string[]): string[] {
  if (prefixes.length === 0) throw validationError('/prefixes', 'at least one E.164 prefix');
  prefixes.forEach((p, i) => {
    if (!PREFIX.test(p)) throw validationError(`/prefixes/${i}`, 'must be an E.164 prefix like +32');
  });
  return prefixes;
}

/** A local date `YYYY-MM-DD` that exists. */
export function checkDate(date: string, field: string): string {
  if (!isLocalDate(date)) throw validationError(field, 'must be a date YYYY-MM-DD');
  return date;
}

/** Money is integers ≥ 0 (cents, or µ€ per minute). */
export function checkAmount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw validationError(field, 'must be a whole amount ≥ 0 (cents, or µ€ per minute)');
  return value;
}
