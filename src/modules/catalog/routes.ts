import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { CATALOG_WRITE_ROLES } from './catalog-rules.ts';
import { productViewOf, productViews, ProductViewSchema, tariffZoneView, tariffZoneViews, TariffZoneViewSchema } from './catalog-view.ts';
import { changeProductPrice, changeTariff } from './change-price.ts';
import { createProduct } from './create-product.ts';
import { createTariffZone } from './create-tariff-zone.ts';
import { PRODUCT_KINDS, PRODUCT_UNITS } from './schema.ts';

const Code = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
const LocalDateSchema = Type.String({ format: 'date', description: 'YYYY-MM-DD (Europe/Brussels)' });
const Prefixes = Type.Array(Type.String({ pattern: '^\\+\\d{1,15}$' }), { minItems: 1 });

/** The catalogue (§1, §5.6, §8.2): readable by every authenticated principal, changed by staff admin and billing. */
export const catalogRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.get(
    '/catalog/products',
    { schema: { tags: ['catalog'], summary: 'Products with their price versions', response: { 200: Type.Object({ items: Type.Array(ProductViewSchema) }) } } },
    async () => ({ items: await productViews(ctx.db, ctx.clock.now()) }),
  );

  app.get(
    '/catalog/products/:code',
    { schema: { tags: ['catalog'], summary: 'One product', params: Type.Object({ code: Code }), response: { 200: ProductViewSchema } } },
    async (request) => productViewOf(ctx.db, request.params.code, ctx.clock.now()),
  );

  app.post(
    '/catalog/products',
    {
      config: { auth: { roles: CATALOG_WRITE_ROLES } },
      schema: {
        tags: ['catalog'],
        summary: 'Create a product (staff admin, billing)',
        body: Type.Object(
          {
            code: Code,
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            kind: Type.Enum([...PRODUCT_KINDS]),
            unit: Type.Optional(Type.Enum([...PRODUCT_UNITS])),
            warrantyMonths: Type.Optional(Type.Integer({ minimum: 0, maximum: 120 })),
            priceCents: Type.Integer({ minimum: 0, description: 'monthly (recurring, pack) or one-off price, cents excl. VAT' }),
            minutes: Type.Optional(Type.Integer({ minimum: 0 })),
            zones: Type.Optional(Type.Array(Code, { minItems: 1 })),
            effective: Type.Optional(LocalDateSchema),
          },
          { additionalProperties: false },
        ),
        response: { 201: ProductViewSchema },
      },
    },
    async (request, reply) => {
      const { minutes, zones, ...rest } = request.body;
      await createProduct(ctx, { actor: principalOf(request), ...rest, packMinutes: minutes, packZones: zones, requestId: request.id });
      return reply.status(201).send(await productViewOf(ctx.db, rest.code, ctx.clock.now()));
    },
  );

  app.post(
    '/catalog/products/:code/prices',
    {
      config: { auth: { roles: CATALOG_WRITE_ROLES } },
      schema: {
        tags: ['catalog'],
        summary: 'A new price version (§5.6; a pack content §8.2): effective ≥ today + 30 days; notices recorded',
        params: Type.Object({ code: Code }),
        body: Type.Object(
          {
            priceCents: Type.Optional(Type.Integer({ minimum: 0 })),
            minutes: Type.Optional(Type.Integer({ minimum: 0 })),
            zones: Type.Optional(Type.Array(Code, { minItems: 1 })),
            effective: LocalDateSchema,
          },
          { additionalProperties: false },
        ),
        response: { 201: ProductViewSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await changeProductPrice(ctx, {
        actor: principalOf(request),
        productCode: request.params.code,
        priceCents: b.priceCents,
        packMinutes: b.minutes,
        packZones: b.zones,
        effective: b.effective,
        requestId: request.id,
      });
      return reply.status(201).send(await productViewOf(ctx.db, request.params.code, ctx.clock.now()));
    },
  );

  app.get(
    '/catalog/tariffs',
    { schema: { tags: ['catalog'], summary: 'Tariff zones with their versions', response: { 200: Type.Object({ items: Type.Array(TariffZoneViewSchema) }) } } },
    async () => ({ items: await tariffZoneViews(ctx.db, ctx.clock.now()) }),
  );

  app.post(
    '/catalog/tariffs',
    {
      config: { auth: { roles: CATALOG_WRITE_ROLES } },
      schema: {
        tags: ['catalog'],
        summary: 'Create a tariff zone (staff admin, billing)',
        body: Type.Object(
          { zone: Code, prefixes: Prefixes, perMinuteMicros: Type.Integer({ minimum: 0, description: 'µ€ per minute' }), effective: Type.Optional(LocalDateSchema) },
          { additionalProperties: false },
        ),
        response: { 201: TariffZoneViewSchema },
      },
    },
    async (request, reply) => {
      await createTariffZone(ctx, { actor: principalOf(request), ...request.body, requestId: request.id });
      return reply.status(201).send(await tariffZoneView(ctx.db, request.body.zone, ctx.clock.now()));
    },
  );

  app.post(
    '/catalog/tariffs/:zone/prices',
    {
      config: { auth: { roles: CATALOG_WRITE_ROLES } },
      schema: {
        tags: ['catalog'],
        summary: 'A new tariff version (§8.2): effective ≥ today + 30 days; notices recorded',
        params: Type.Object({ zone: Code }),
        body: Type.Object(
          { perMinuteMicros: Type.Optional(Type.Integer({ minimum: 0 })), prefixes: Type.Optional(Prefixes), effective: LocalDateSchema },
          { additionalProperties: false },
        ),
        response: { 201: TariffZoneViewSchema },
      },
    },
    async (request, reply) => {
      await changeTariff(ctx, { actor: principalOf(request), zone: request.params.zone, ...request.body, requestId: request.id });
      return reply.status(201).send(await tariffZoneView(ctx.db, request.params.zone, ctx.clock.now()));
    },
  );
};
