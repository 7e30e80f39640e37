/** The catalog module's public service API (§1 products, §5.6 / §8.2 price versions, §8.3 tariffs). */
export { getProduct, listProducts, priceOn, productVersionsOf, tariffOn, tariffVersionsOf, zoneFor, type Product, type ProductVersion, type TariffVersion } from './product-queries.ts';
export { createProduct, type CreateProductOptions } from './create-product.ts';
export { createTariffZone, type CreateTariffZoneOptions } from './create-tariff-zone.ts';
export { changeProductPrice, changeTariff, type ChangeProductPriceOptions, type ChangeTariffOptions } from './change-price.ts';
export { assertPriceNotice, earliestEffective, PRICE_NOTICE_DAYS } from './price-notice.ts';
export { PRODUCT_KINDS, PRODUCT_UNITS, type ProductKind, type ProductUnit } from './schema.ts';
export { catalogRoutes } from './routes.ts';
