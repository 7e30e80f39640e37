/** Catalogue over a real database: price versions, 30-day notice (§5.6, §8.2), zones (§8.3). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../../test/support/db.ts';
import { testContext } from '../../../test/support/context.ts';
import { AppError } from '../../kernel/errors.ts';
import { createClient } from '../customers/create-client.ts';
import { createContract } from '../customers/create-contract.ts';
import { signContract } from '../customers/sign-contract.ts';
import { terminateContract } from '../customers/terminate-contract.ts';
import { listEvents } from '../events/index.ts';
import { changeProductPrice, changeTariff } from './change-price.ts';
import { createProduct } from './create-product.ts';
import { createTariffZone } from './create-tariff-zone.ts';
import { priceOn, zoneFor } from './product-queries.ts';

async function refusal(p: Promise<unknown>): Promise<{ code: string; clause: string | null }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, clause: e.clause };
    throw e;
  }
  throw new Error('expected a refusal');
}

describeEachDb('catalog', (kind) => {
  let drop: () => Promise<void>;
  let ctx: ReturnType<typeof testContext>;
  let signed: string;
  let ended: string;
  let unsigned: string;

  beforeAll(async () => {
    const created = await migratedTestDatabase(kind);
    drop = created.drop;
    ctx = testContext(created.database, '2027-03-01T09:00:00+01:00');
    await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
    await createProduct(ctx, { actor: 'system', code: 'PACK', kind: 'pack', priceCents: 900, packMinutes: 500, packZones: ['BE-FIXED'] });
    await createTariffZone(ctx, { actor: 'system', zone: 'BE-FIXED', prefixes: ['+32'], perMinuteMicros: 25_000 });
    await createTariffZone(ctx, { actor: 'system', zone: 'BE-MOBILE', prefixes: ['+3246', '+3247', '+3248', '+3249'], perMinuteMicros: 85_000 });
    const mk = async (name: string, sign: boolean): Promise<string> => {
      const c = await createClient(ctx, { principal: 'system', name });
      const draft = await createContract(ctx, { actor: 'system', clientId: c.id, lines: [{ product: 'USER', quantity: 1 }] });
      if (sign) await signContract(ctx, { actor: 'system', clientId: c.id, contractId: draft.id });
      return c.id;
    };
    signed = await mk('Signed', true);
    ended = await mk('Ended', true);
    unsigned = await mk('Draft only', false);
    await terminateContract(ctx, { actor: 'system', clientId: ended, by: 'client', ground: 'early' });
  });
  afterAll(async () => drop());

  it('a product price: 29 days of notice refused (5.6), exactly 30 accepted; notices to signed, not terminated clients', async () => {
    expect(await refusal(changeProductPrice(ctx, { actor: 'system', productCode: 'USER', priceCents: 1300, effective: '2027-03-30' }))).toEqual({
      code: 'PRICE_NOTICE_TOO_SHORT',
      clause: '5.6',
    });
    await changeProductPrice(ctx, { actor: 'system', productCode: 'USER', priceCents: 1300, effective: '2027-03-31' });
    const notices = await listEvents(ctx.db, { type: 'notice' });
    expect(notices.map((e) => e.clientId)).toEqual([signed]);
    expect(notices[0]).toMatchObject({ clause: '5.6', details: { product: 'USER', priceCents: 1300, effective: '2027-03-31' } });
    expect(unsigned).toBeDefined();
    expect((await priceOn(ctx.db, 'USER', '2027-03-30'))?.priceCents).toBe(1250);
    expect((await priceOn(ctx.db, 'USER', '2027-03-31'))?.priceCents).toBe(1300);
    expect(await priceOn(ctx.db, 'USER', '2027-02-28')).toBeNull();
    // a second change for the same day: the last recorded is the one in force
    await changeProductPrice(ctx, { actor: 'system', productCode: 'USER', priceCents: 1350, effective: '2027-03-31' });
    expect((await priceOn(ctx.db, 'USER', '2027-03-31'))?.priceCents).toBe(1350);
    expect((await priceOn(ctx.db, 'USER', '2027-03-30'))?.priceCents).toBe(1250);
  });

  it("a pack's content and a tariff zone follow 8.2", async () => {
    expect(await refusal(changeProductPrice(ctx, { actor: 'system', productCode: 'PACK', packMinutes: 600, effective: '2027-03-30' }))).toEqual({
      code: 'PRICE_NOTICE_TOO_SHORT',
      clause: '8.2',
    });
    const v = await changeProductPrice(ctx, { actor: 'system', productCode: 'PACK', packMinutes: 600, effective: '2027-03-31' });
    expect(v).toMatchObject({ priceCents: 900, packMinutes: 600, packZones: ['BE-FIXED'] });
    expect(await refusal(changeTariff(ctx, { actor: 'system', zone: 'BE-MOBILE', perMinuteMicros: 90_000, effective: '2027-03-30' }))).toEqual({
      code: 'PRICE_NOTICE_TOO_SHORT',
      clause: '8.2',
    });
    await changeTariff(ctx, { actor: 'system', zone: 'BE-MOBILE', perMinuteMicros: 90_000, effective: '2027-03-31' });
    const notices = await listEvents(ctx.db, { type: 'notice', clientId: signed });
    expect(notices.map((e) => e.clause)).toEqual(['5.6', '5.6', '8.2', '8.2']); // the two USER price changes, then PACK and BE-MOBILE
  });

  it('zoneFor: longest prefix, tariff in force at the instant', async () => {
    expect(await zoneFor(ctx.db, '+32470123456', new Date('2027-03-30T23:59:59+02:00'))).toEqual({ zone: 'BE-MOBILE', perMinuteMicros: 85_000 });
    expect(await zoneFor(ctx.db, '+32470123456', new Date('2027-03-31T00:00:00+02:00'))).toEqual({ zone: 'BE-MOBILE', perMinuteMicros: 90_000 });
    expect(await zoneFor(ctx.db, '+3243210000', new Date('2027-03-31T00:00:00+02:00'))).toEqual({ zone: 'BE-FIXED', perMinuteMicros: 25_000 });
    expect(await zoneFor(ctx.db, '+33187654321', new Date('2027-03-31T00:00:00+02:00'))).toBeNull();
  });
});
