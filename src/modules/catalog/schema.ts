import { bigint, date, index, integer, jsonb, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';

export const PRODUCT_KINDS = ['hardware', 'one_off', 'recurring', 'pack'] as const;
export type ProductKind = (typeof PRODUCT_KINDS)[number];
export const PRODUCT_UNITS = ['user', 'national_number', 'international_number', 'fixed'] as const;
export type ProductUnit = (typeof PRODUCT_UNITS)[number];

/** Products (§1, §8.1). Prices live in versions. */
export const products = pgTable('catalog_products', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind', { enum: PRODUCT_KINDS }).notNull(),
  unit: text('unit', { enum: PRODUCT_UNITS }),
  warrantyMonths: integer('warranty_months'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
});

/** A product's price (monthly or one-off, cents) and pack content from `effective` on (§5.6, §8.2). */
export const productVersions = pgTable(
  'catalog_product_versions',
  {
    id: serial('id').primaryKey(),
    productCode: text('product_code')
      .notNull()
      .references(() => products.code),
    effective: date('effective', { mode: 'string' }).notNull(),
    priceCents: bigint('price_cents', { mode: 'number' }).notNull(),
    packMinutes: integer('pack_minutes'),
    packZones: jsonb('pack_zones').$type<string[]>(),
    noticeAt: timestamp('notice_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('catalog_product_versions_idx').on(t.productCode, t.effective)],
);

export const tariffZones = pgTable('catalog_tariff_zones', {
  code: text('code').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
});

/** A tariff zone's prefixes and price per minute (µ€) from `effective` on (§8.2, §8.3). */
export const tariffVersions = pgTable(
  'catalog_tariff_versions',
  {
    id: serial('id').primaryKey(),
    zone: text('zone')
      .notNull()
      .references(() => tariffZones.code),
    effective: date('effective', { mode: 'string' }).notNull(),
    perMinuteMicros: bigint('per_minute_micros', { mode: 'number' }).notNull(),
    prefixes: jsonb('prefixes').$type<string[]>().notNull(),
    noticeAt: timestamp('notice_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('catalog_tariff_versions_idx').on(t.zone, t.effective)],
);
