/** The catalogue over HTTP: readable by every authenticated principal, changed by staff admin/billing only; §5.6 / §8.2 notice. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedClient, startHarness, type Harness } from './harness.ts';

describeEachDb('catalog http', (kind) => {
  let h: Harness;
  let staff: string;
  let support: string;
  let clientAdmin: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    staff = await loginAs(h, await seedAccount(h, 'billing'));
    support = await loginAs(h, await seedAccount(h, 'support'));
    clientAdmin = await loginAs(h, await seedAccount(h, 'client_admin', await seedClient(h, 'C'), 'C-admin'));
  });
  afterAll(async () => h.close());

  it('staff create products and zones; client roles and support get 403; everyone reads', async () => {
    const body = { code: 'PACK-BE', kind: 'pack', priceCents: 900, minutes: 500, zones: ['BE-FIXED'] };
    expect((await call(h, 'POST', '/api/v1/catalog/products', { cookie: clientAdmin, body })).statusCode).toBe(403);
    expect((await call(h, 'POST', '/api/v1/catalog/products', { cookie: support, body })).statusCode).toBe(403);
    const res = await call(h, 'POST', '/api/v1/catalog/products', { cookie: staff, body });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ code: 'PACK-BE', kind: 'pack', unit: 'fixed', current: { priceCents: 900, packMinutes: 500, effective: '2027-03-01' } });
    const dup = await call(h, 'POST', '/api/v1/catalog/products', { cookie: staff, body });
    expect(dup.statusCode).toBe(409);
    const noUnit = await call(h, 'POST', '/api/v1/catalog/products', { cookie: staff, body: { code: 'X', kind: 'recurring', priceCents: 1 } });
    expect(noUnit.statusCode).toBe(400);

    const zone = await call(h, 'POST', '/api/v1/catalog/tariffs', { cookie: staff, body: { zone: 'BE-FIXED', prefixes: ['+32'], perMinuteMicros: 25000 } });
    expect(zone.statusCode, zone.body).toBe(201);
    expect((await call(h, 'POST', '/api/v1/catalog/tariffs', { cookie: clientAdmin, body: { zone: 'FR', prefixes: ['+33'], perMinuteMicros: 1 } })).statusCode).toBe(403);

    const products = json<{ items: { code: string }[] }>(await call(h, 'GET', '/api/v1/catalog/products', { cookie: clientAdmin }));
    expect(products.items.map((p) => p.code)).toEqual(['PACK-BE']);
    const tariffs = json<{ items: { zone: string; current: { perMinuteMicros: number } }[] }>(await call(h, 'GET', '/api/v1/catalog/tariffs', { cookie: clientAdmin }));
    expect(tariffs.items).toMatchObject([{ zone: 'BE-FIXED', current: { perMinuteMicros: 25000 } }]);
  });

  it('price versions: 29 days refused with the clause, 30 accepted', async () => {
    const short = await call(h, 'POST', '/api/v1/catalog/products/PACK-BE/prices', { cookie: staff, body: { priceCents: 1000, effective: '2027-03-30' } });
    expect(short.statusCode).toBe(422);
    expect(json(short)).toMatchObject({ code: 'PRICE_NOTICE_TOO_SHORT', clause: '5.6' });
    const content = await call(h, 'POST', '/api/v1/catalog/products/PACK-BE/prices', { cookie: staff, body: { minutes: 600, effective: '2027-03-30' } });
    expect(json(content)).toMatchObject({ code: 'PRICE_NOTICE_TOO_SHORT', clause: '8.2' });
    const ok = await call(h, 'POST', '/api/v1/catalog/products/PACK-BE/prices', { cookie: staff, body: { priceCents: 1000, effective: '2027-03-31' } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(json(ok)).toMatchObject({ current: { priceCents: 900 }, versions: [{ priceCents: 900 }, { priceCents: 1000, effective: '2027-03-31' }] });
    const tariff = await call(h, 'POST', '/api/v1/catalog/tariffs/BE-FIXED/prices', { cookie: staff, body: { perMinuteMicros: 30000, effective: '2027-03-30' } });
    expect(json(tariff)).toMatchObject({ code: 'PRICE_NOTICE_TOO_SHORT', clause: '8.2' });
    const unknown = await call(h, 'POST', '/api/v1/catalog/tariffs/NOPE/prices', { cookie: staff, body: { perMinuteMicros: 30000, effective: '2027-05-30' } });
    expect(unknown.statusCode).toBe(404);
  });
});
