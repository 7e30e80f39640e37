import type { AppContext } from '../../context.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { localDate, type LocalDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { clientsWithLiveContract } from '../customers/contract-store.ts';
import { recordEvent } from '../events/index.ts';
import { assertCatalogWriter, checkAmount, checkDate, checkPrefixes } from './catalog-rules.ts';
import { assertPriceNotice } from './price-notice.ts';
import { getProduct, priceOn, tariffOn, type ProductVersion, type TariffVersion } from './product-queries.ts';
import { productVersions, tariffVersions } from './schema.ts';

export interface ChangeProductPriceOptions {
  actor: AuditActor;
  productCode: string;
  /** New monthly / one-off price, cents; omitted = unchanged. */
  priceCents?: number | undefined;
  /** Pack content (§8.2); omitted = unchanged. */
  packMinutes?: number | undefined;
  packZones?: string[] | undefined;
  effective: LocalDate;
  requestId?: string | undefined;
}

/**
 * A new price version of a product. §5.6 (price) / §8.2 (pack content): refused unless
 * effective ≥ notice date + 30 days; the notice date is today. Records one `notice`
 * event per client with a signed, not terminated contract (sending by mail comes later).
 */
export async function changeProductPrice(ctx: AppContext, opts: ChangeProductPriceOptions): Promise<ProductVersion> {
  assertCatalogWriter(opts.actor, opts.productCode);
  checkDate(opts.effective, '/effective');
  if (opts.priceCents !== undefined) checkAmount(opts.priceCents, '/priceCents');
  const now = ctx.clock.now();
  const today = localDate(now);
  return ctx.db.transaction(async (tx) => {
    const product = await getProduct(tx, opts.productCode);
    if (!product) throw notFound('product', opts.productCode);
    const base = (await priceOn(tx, opts.productCode, opts.effective)) ?? (await priceOn(tx, opts.productCode, '9999-12-31'));
    if (!base) throw notFound('product price', opts.productCode);
    const contentChange = opts.packMinutes !== undefined || opts.packZones !== undefined;
    if (contentChange && product.kind !== 'pack') throw validationError('/minutes', 'only a pack has minutes and zones');
    if (opts.priceCents === undefined && !contentChange) throw validationError('/price', 'nothing to change');
    // §8.2 governs a pack's content; §5.6 a product's price.
    const clause = contentChange ? '8.2' : '5.6';
    assertPriceNotice(today, opts.effective, clause);
    const [v] = await tx
      .insert(productVersions)
      .values({
        productCode: opts.productCode,
        effective: opts.effective,
        priceCents: opts.priceCents ?? base.priceCents,
        packMinutes: opts.packMinutes ?? base.packMinutes,
        packZones: opts.packZones ?? base.packZones,
        noticeAt: now,
        createdAt: now,
      })
      .returning();
    const version: ProductVersion = {
      productCode: v!.productCode,
      effective: v!.effective,
      priceCents: v!.priceCents,
      packMinutes: v!.packMinutes,
      packZones: v!.packZones,
      noticeAt: v!.noticeAt,
    };
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'product.price_change',
      entity: 'product',
      entityId: opts.productCode,
      clientId: null,
      before: base,
      after: version,
      clause,
      requestId: opts.requestId ?? null,
    });
    const details = {
      kind: 'price_change',
      product: opts.productCode,
      priceCents: version.priceCents,
      ...(product.kind === 'pack' ? { minutes: version.packMinutes, zones: version.packZones } : {}),
      effective: opts.effective,
    };
    for (const clientId of await clientsWithLiveContract(tx)) {
      await recordEvent(tx, { at: now, clientId, type: 'notice', clause, details });
    }
    return version;
  });
}

export interface ChangeTariffOptions {
  actor: AuditActor;
  zone: string;
  /** µ€ per minute; omitted = unchanged. */
  perMinuteMicros?: number | undefined;
  prefixes?: string[] | undefined;
  effective: LocalDate;
  requestId?: string | undefined;
}

/** A new version of a tariff zone (§8.2): same notice rule, clause 8.2. */
export async function changeTariff(ctx: AppContext, opts: ChangeTariffOptions): Promise<TariffVersion> {
  assertCatalogWriter(opts.actor, opts.zone);
  checkDate(opts.effective, '/effective');
  if (opts.perMinuteMicros !== undefined) checkAmount(opts.perMinuteMicros, '/perMinuteMicros');
  const now = ctx.clock.now();
  const today = localDate(now);
  return ctx.db.transaction(async (tx) => {
    const inForce = [...(await tariffOn(tx, opts.effective)), ...(await tariffOn(tx, '9999-12-31'))];
    const base = inForce.find((v) => v.zone === opts.zone);
    if (!base) throw notFound('tariff zone', opts.zone);
    if (opts.perMinuteMicros === undefined && opts.prefixes === undefined) throw validationError('/perMinute', 'nothing to change');
    const prefixes = opts.prefixes ? checkPrefixes(opts.prefixes) : base.prefixes;
    assertPriceNotice(today, opts.effective, '8.2');
    const [v] = await tx
      .insert(tariffVersions)
      .values({ zone: opts.zone, effective: opts.effective, perMinuteMicros: opts.perMinuteMicros ?? base.perMinuteMicros, prefixes, noticeAt: now, createdAt: now })
      .returning();
    const version: TariffVersion = { zone: v!.zone, effective: v!.effective, perMinuteMicros: v!.perMinuteMicros, prefixes: v!.prefixes, noticeAt: v!.noticeAt };
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'tariff.price_change',
      entity: 'tariff_zone',
      entityId: opts.zone,
      clientId: null,
      before: base,
      after: version,
      clause: '8.2',
      requestId: opts.requestId ?? null,
    });
    const details = { kind: 'price_change', zone: opts.zone, perMinuteMicros: version.perMinuteMicros, effective: opts.effective };
    for (const clientId of await clientsWithLiveContract(tx)) {
      await recordEvent(tx, { at: now, clientId, type: 'notice', clause: '8.2', details });
    }
    return version;
  });
}
