/** Reading the catalogue: products, the price version in force, tariff zones (§5.6, §8.2, §8.3). */
import { asc, desc, eq, inArray, lte } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { longestPrefixMatch } from '../../kernel/e164.ts';
import { localDate, type LocalDate } from '../../kernel/time.ts';
import { products, productVersions, tariffVersions, tariffZones, type ProductKind, type ProductUnit } from './schema.ts';

export interface Product {
  code: string;
  name: string;
  kind: ProductKind;
  unit: ProductUnit | null;
  warrantyMonths: number | null;
}

export interface ProductVersion {
  productCode: string;
  effective: LocalDate;
  /** Monthly price (recurring, pack) or one-off price (hardware, one_off), cents excl. VAT. */
  priceCents: number;
  packMinutes: number | null;
  packZones: string[] | null;
  noticeAt: Date | null;
}

export interface TariffVersion {
  zone: string;
  effective: LocalDate;
  perMinuteMicros: number;
  prefixes: string[];
  noticeAt: Date | null;
}

const toProduct = (r: typeof products.$inferSelect): Product => ({
  code: r.code,
  name: r.name,
  kind: r.kind,
  unit: r.unit,
  warrantyMonths: r.warrantyMonths,
});

const toProductVersion = (r: typeof productVersions.$inferSelect): ProductVersion => ({
  productCode: r.productCode,
  effective: r.effective,
  priceCents: r.priceCents,
  packMinutes: r.packMinutes,
  packZones: r.packZones,
  noticeAt: r.noticeAt,
});

const toTariffVersion = (r: typeof tariffVersions.$inferSelect): TariffVersion => ({
  zone: r.zone,
  effective: r.effective,
  perMinuteMicros: r.perMinuteMicros,
  prefixes: r.prefixes,
  noticeAt: r.noticeAt,
});

export async function listProducts(db: DbOrTx): Promise<Product[]> {
  return (await db.select().from(products).orderBy(asc(products.code))).map(toProduct);
}

export async function getProduct(db: DbOrTx, code: string): Promise<Product | undefined> {
  const [row] = await db.select().from(products).where(eq(products.code, code)).limit(1);
  return row ? toProduct(row) : undefined;
}

export async function productVersionsOf(db: DbOrTx, code: string): Promise<ProductVersion[]> {
  const rows = await db
    .select()
    .from(productVersions)
    .where(eq(productVersions.productCode, code))
    .orderBy(asc(productVersions.effective), asc(productVersions.id));
  return rows.map(toProductVersion);
}

/** The product's price version in force on `date` (the latest effective ≤ date; last recorded wins on ties); null before the first. */
export async function priceOn(db: DbOrTx, productCode: string, date: LocalDate): Promise<ProductVersion | null> {
  return versionOn(await productVersionsOfCodes(db, [productCode]), productCode, date);
}

/** The price versions of several products in one statement, latest effective date first, then the latest recorded (the order `versionOn` chooses by). */
export async function productVersionsOfCodes(db: DbOrTx, codes: readonly string[]): Promise<ProductVersion[]> {
  if (codes.length === 0) return [];
  const rows = await db
    .select()
    .from(productVersions)
    .where(inArray(productVersions.productCode, [...codes]))
    .orderBy(desc(productVersions.effective), desc(productVersions.id));
  return rows.map(toProductVersion);
}

/** The version of `code` in force on `date` among versions read by `productVersionsOfCodes`: the first in their order with effective ≤ date. */
export const versionOn = (versions: readonly ProductVersion[], code: string, date: LocalDate): ProductVersion | null =>
  versions.find((v) => v.productCode === code && v.effective <= date) ?? null;

export async function listTariffZoneCodes(db: DbOrTx): Promise<string[]> {
  return (await db.select({ code: tariffZones.code }).from(tariffZones).orderBy(asc(tariffZones.code))).map((r) => r.code);
}

export async function tariffVersionsOf(db: DbOrTx, zone: string): Promise<TariffVersion[]> {
  const rows = await db.select().from(tariffVersions).where(eq(tariffVersions.zone, zone)).orderBy(asc(tariffVersions.effective), asc(tariffVersions.id));
  return rows.map(toTariffVersion);
}

/** Every zone's version in force on `date` (zones not yet in force are left out). */
export async function tariffOn(db: DbOrTx, date: LocalDate): Promise<TariffVersion[]> {
  const rows = await db
    .select()
    .from(tariffVersions)
    .where(lte(tariffVersions.effective, date))
    .orderBy(asc(tariffVersions.zone), desc(tariffVersions.effective), desc(tariffVersions.id));
  const seen = new Set<string>();
  const out: TariffVersion[] = [];
  for (const r of rows) {
    if (seen.has(r.zone)) continue;
    seen.add(r.zone);
    out.push(toTariffVersion(r));
  }
  return out;
}

/** §8.3: the zone of an E.164 number in the tariff in force at `at` (longest prefix wins); null when none matches. */
export async function zoneFor(db: DbOrTx, e164: string, at: Date): Promise<{ zone: string; perMinuteMicros: number } | null> {
  const tariff = await tariffOn(db, localDate(at));
  const match = longestPrefixMatch(
    e164,
    tariff.flatMap((v) => v.prefixes.map((p) => [p, v] as const)),
  );
  return match ? { zone: match.value.zone, perMinuteMicros: match.value.perMinuteMicros } : null;
}
