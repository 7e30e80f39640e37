import { Type, type Static } from 'typebox';
import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import { localDate } from '../../kernel/time.ts';
import { getProduct, listProducts, listTariffZoneCodes, priceOn, productVersionsOf, tariffVersionsOf, type Product, type ProductVersion, type TariffVersion } from './product-queries.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateString = Type.String({ format: 'date' });

export const ProductVersionSchema = Type.Object({
  effective: DateString,
  priceCents: Type.Integer(),
  packMinutes: Nullable(Type.Integer()),
  packZones: Nullable(Type.Array(Type.String())),
  noticeAt: Nullable(Type.String({ format: 'date-time' })),
});

export const ProductViewSchema = Type.Object({
  code: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  unit: Nullable(Type.String()),
  warrantyMonths: Nullable(Type.Integer()),
  /** The version in force today (null when only future versions exist). */
  current: Nullable(ProductVersionSchema),
  versions: Type.Array(ProductVersionSchema),
});
export type ProductView = Static<typeof ProductViewSchema>;

export const TariffVersionSchema = Type.Object({
  effective: DateString,
  perMinuteMicros: Type.Integer(),
  prefixes: Type.Array(Type.String()),
  noticeAt: Nullable(Type.String({ format: 'date-time' })),
});

export const TariffZoneViewSchema = Type.Object({
  zone: Type.String(),
  current: Nullable(TariffVersionSchema),
  versions: Type.Array(TariffVersionSchema),
});
export type TariffZoneView = Static<typeof TariffZoneViewSchema>;

export const toProductVersionView = (v: ProductVersion): Static<typeof ProductVersionSchema> => ({
  effective: v.effective,
  priceCents: v.priceCents,
  packMinutes: v.packMinutes,
  packZones: v.packZones,
  noticeAt: v.noticeAt?.toISOString() ?? null,
});

export const toTariffVersionView = (v: TariffVersion): Static<typeof TariffVersionSchema> => ({
  effective: v.effective,
  perMinuteMicros: v.perMinuteMicros,
  prefixes: v.prefixes,
  noticeAt: v.noticeAt?.toISOString() ?? null,
});

async function productView(db: DbOrTx, p: Product, today: string): Promise<ProductView> {
  const current = await priceOn(db, p.code, today);
  return { ...p, current: current ? toProductVersionView(current) : null, versions: (await productVersionsOf(db, p.code)).map(toProductVersionView) };
}

export async function productViews(db: DbOrTx, now: Date): Promise<ProductView[]> {
  const today = localDate(now);
  return Promise.all((await listProducts(db)).map((p) => productView(db, p, today)));
}

export async function productViewOf(db: DbOrTx, code: string, now: Date): Promise<ProductView> {
  const p = await getProduct(db, code);
  if (!p) throw notFound('product', code);
  return productView(db, p, localDate(now));
}

export async function tariffZoneView(db: DbOrTx, zone: string, now: Date): Promise<TariffZoneView> {
  const today = localDate(now);
  const versions = await tariffVersionsOf(db, zone);
  if (versions.length === 0) throw notFound('tariff zone', zone);
  const inForce = versions.filter((v) => v.effective <= today);
  const current = inForce.at(-1);
  return { zone, current: current ? toTariffVersionView(current) : null, versions: versions.map(toTariffVersionView) };
}

export async function tariffZoneViews(db: DbOrTx, now: Date): Promise<TariffZoneView[]> {
  return Promise.all((await listTariffZoneCodes(db)).map((z) => tariffZoneView(db, z, now)));
}
