import type { AppContext } from '../../context.ts';
import { conflict } from '../../kernel/errors.ts';
import { localDate, type LocalDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { assertCatalogWriter, checkAmount, checkDate, checkProductShape } from './catalog-rules.ts';
import { getProduct, type Product, type ProductVersion } from './product-queries.ts';
import { products, productVersions, type ProductKind, type ProductUnit } from './schema.ts';

export interface CreateProductOptions {
  actor: AuditActor;
  code: string;
  name?: string | undefined;
  kind: ProductKind;
  unit?: ProductUnit | null | undefined;
  warrantyMonths?: number | null | undefined;
  /** Monthly (recurring, pack) or one-off (hardware, one_off) price, cents excl. VAT (§5.1). */
  priceCents: number;
  packMinutes?: number | null | undefined;
  packZones?: string[] | null | undefined;
  /** When the first price applies (default: today). A new product needs no notice: nobody has it yet. */
  effective?: LocalDate | undefined;
  requestId?: string | undefined;
}

export async function createProduct(ctx: AppContext, opts: CreateProductOptions): Promise<Product & { versions: ProductVersion[] }> {
  assertCatalogWriter(opts.actor, opts.code);
  if (opts.effective !== undefined) checkDate(opts.effective, '/effective');
  checkAmount(opts.priceCents, '/priceCents');
  const shape = checkProductShape(opts);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    if (await getProduct(tx, opts.code)) throw conflict('PRODUCT_EXISTS', `product ${opts.code} already exists`);
    const [p] = await tx
      .insert(products)
      .values({ code: opts.code, name: opts.name ?? opts.code, kind: opts.kind, unit: shape.unit, warrantyMonths: shape.warrantyMonths, createdAt: now })
      .returning();
    const [v] = await tx
      .insert(productVersions)
      .values({
        productCode: opts.code,
        effective: opts.effective ?? localDate(now),
        priceCents: opts.priceCents,
        packMinutes: shape.packMinutes,
        packZones: shape.packZones,
        noticeAt: null,
        createdAt: now,
      })
      .returning();
    const product: Product = { code: p!.code, name: p!.name, kind: p!.kind, unit: p!.unit, warrantyMonths: p!.warrantyMonths };
    const version: ProductVersion = {
      productCode: v!.productCode,
      effective: v!.effective,
      priceCents: v!.priceCents,
      packMinutes: v!.packMinutes,
      packZones: v!.packZones,
      noticeAt: null,
    };
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'product.create',
      entity: 'product',
      entityId: opts.code,
      clientId: null,
      before: null,
      after: { ...product, version },
      requestId: opts.requestId ?? null,
    });
    return { ...product, versions: [version] };
  });
}
