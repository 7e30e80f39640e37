/**
 * §8.3 rating of many clients' month at once (`rateClientsMonthWithPools`: one statement for
 * the clients whose pools are disjoint or equal, the in-memory path for the others) gives
 * exactly the in-memory reference for every client; an empty month rates nothing; a DST
 * month takes its calls by local month bounds; rerating is idempotent.
 */
import { asc, eq, isNull, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../../test/support/db.ts';
import { answeredCall, arbitraryCall, callRow } from '../../../test/support/rating-calls.ts';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { tariffVersions, tariffZones } from '../catalog/schema.ts';
import type { PackPool } from './call-rating.ts';
import { rateClientMonthInMemory, rateClientsMonthWithPools } from './rate-client-month.ts';

const ZONE_SETS = [['BE-FIXED'], ['BE-MOBILE'], ['BE-FIXED', 'BE-MOBILE'], ['FR']];
const client = fc.record({
  calls: fc.array(arbitraryCall, { maxLength: 25 }),
  pools: fc.array(fc.record({ zones: fc.constantFrom(...ZONE_SETS), seconds: fc.integer({ min: 0, max: 8_000 }) }), { maxLength: 3 }),
});

type Row = [string, number | null, string | null, number | null, number | null];

describeEachDb('§8.3 rating of many clients at once', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  const at = new Date('2027-01-02T00:00:00+01:00');
  const rowsOf = async (clientId: string): Promise<Row[]> =>
    (await database.db.select().from(cdrs).where(eq(cdrs.clientId, clientId)).orderBy(asc(cdrs.id))).map((r) => [
      r.id,
      r.ratedAt?.getTime() ?? null,
      r.zone,
      r.packSeconds,
      r.costCents,
    ]);
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
    const createdAt = new Date('2026-10-01T00:00:00Z');
    await database.db.insert(tariffZones).values(['BE-FIXED', 'BE-MOBILE', 'FR'].map((code) => ({ code, createdAt })));
    await database.db.insert(tariffVersions).values([
      { zone: 'BE-FIXED', effective: '2026-11-01', perMinuteMicros: 25_000, prefixes: ['+32'], createdAt },
      { zone: 'BE-MOBILE', effective: '2026-11-01', perMinuteMicros: 85_000, prefixes: ['+3247', '+3248'], createdAt },
      { zone: 'FR', effective: '2026-11-01', perMinuteMicros: 40_000, prefixes: ['+33'], createdAt },
      // A price change in the middle of December (local day 15).
      { zone: 'BE-MOBILE', effective: '2026-12-15', perMinuteMicros: 91_111, prefixes: ['+3247'], createdAt },
    ]);
  });
  afterAll(async () => drop());

  it('rates a month with no call: nothing', async () => {
    expect(await rateClientsMonthWithPools(database.db, new Map([[newId(), []]]), '2026-08-01', at)).toBe(0);
  });

  it('gives every client the in-memory result (overlapping pools included)', async () => {
    const db = database.db;
    await fc.assert(
      fc.asyncProperty(fc.array(client, { minLength: 1, maxLength: 3 }), async (generated) => {
        await db.execute(sql`truncate cdrs`);
        const pools = new Map<string, PackPool[]>();
        for (const c of generated) {
          const clientId = newId();
          pools.set(
            clientId,
            c.pools.map((p, i) => ({ product: `P${i}`, zones: p.zones, seconds: p.seconds })),
          );
          if (c.calls.length > 0) await db.insert(cdrs).values(c.calls.map((k) => callRow(clientId, k)));
        }
        const ids = [...pools.keys()];
        const n = await rateClientsMonthWithPools(db, pools, '2026-12-01', at);
        const together = await Promise.all(ids.map(rowsOf));
        await db.update(cdrs).set({ ratedAt: null, zone: null, packSeconds: null, costCents: null }).where(isNull(cdrs.invoiceId));
        let reference = 0;
        for (const id of ids) reference += await rateClientMonthInMemory(db, id, '2026-12-01', at, pools.get(id));
        expect(together).toEqual(await Promise.all(ids.map(rowsOf)));
        expect(n).toBe(reference);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('takes the calls of a DST month by its local bounds (March 2027: 1 March 00:00 CET to 1 April 00:00 CEST), idempotently', async () => {
    await database.db.execute(sql`truncate cdrs`);
    const clientId = newId();
    const insertCall = async (startedAt: Date): Promise<string> => {
      const row = answeredCall(clientId, startedAt, 60);
      await database.db.insert(cdrs).values(row);
      return row.id;
    };
    const before = await insertCall(new Date('2027-02-28T23:59:59+01:00'));
    const firstCall = await insertCall(new Date('2027-03-01T00:00:00+01:00'));
    const lastCall = await insertCall(new Date('2027-03-31T23:59:59+02:00'));
    const after = await insertCall(new Date('2027-04-01T00:00:00+02:00'));
    const costs = async (): Promise<(number | null)[]> => {
      const byId = new Map((await rowsOf(clientId)).map((r) => [r[0], r[4]]));
      return [before, firstCall, lastCall, after].map((id) => byId.get(id) ?? null);
    };
    expect(await rateClientsMonthWithPools(database.db, new Map([[clientId, []]]), '2027-03-15', at)).toBe(2);
    expect(await costs()).toEqual([null, 3, 3, null]); // ceil(60 × 25 000 ÷ 600 000) = ceil(2.5)
    expect(await rateClientsMonthWithPools(database.db, new Map([[clientId, []]]), '2027-03-15', at)).toBe(0);
    expect(await costs()).toEqual([null, 3, 3, null]);
  });

  it('rating again writes only the calls whose rating changes: a late call and the pack shares it moves', async () => {
    await database.db.execute(sql`truncate cdrs`);
    const clientId = newId();
    const pools = new Map([[clientId, [{ product: 'P', zones: ['BE-FIXED'], seconds: 90 }]]]);
    const start = Date.parse('2026-12-05T10:00:00+01:00');
    const calls = [0, 1, 2, 3].map((i) => answeredCall(clientId, new Date(start + i * 3_600_000), 60));
    await database.db.insert(cdrs).values(calls);
    const first = new Date('2026-12-06T00:00:00+01:00');
    expect(await rateClientsMonthWithPools(database.db, pools, '2026-12-01', first)).toBe(4);
    // Nothing changed: no new row version written (every xmin as before), rated_at kept.
    const versions = async (): Promise<string[]> =>
      (await database.db.select({ v: sql<string>`xmin::text` }).from(cdrs).where(eq(cdrs.clientId, clientId)).orderBy(asc(cdrs.id))).map((r) => r.v);
    const before = await versions();
    expect(await rateClientsMonthWithPools(database.db, pools, '2026-12-01', at)).toBe(0);
    expect(await versions()).toEqual(before);
    expect((await rowsOf(clientId)).every((r) => r[1] === first.getTime())).toBe(true);
    // A late call, started before all the others, takes 60 of the 90 s: the first call now gets 30 s (was 60), the second 0 (was 30).
    const late = answeredCall(clientId, new Date(start - 3_600_000), 60);
    await database.db.insert(cdrs).values(late);
    expect(await rateClientsMonthWithPools(database.db, pools, '2026-12-01', at)).toBe(3);
    const byId = new Map((await rowsOf(clientId)).map((r) => [r[0], r.slice(1)]));
    expect(byId.get(late.id)).toEqual([at.getTime(), 'BE-FIXED', 60, 0]);
    expect(byId.get(calls[0]!.id)).toEqual([at.getTime(), 'BE-FIXED', 30, 2]); // ceil(30 × 25 000 ÷ 600 000) = ceil(1.25)
    expect(byId.get(calls[1]!.id)).toEqual([at.getTime(), 'BE-FIXED', 0, 3]); // ceil(2.5)
    expect(byId.get(calls[2]!.id)).toEqual([first.getTime(), 'BE-FIXED', 0, 3]);
    expect(byId.get(calls[3]!.id)).toEqual([first.getTime(), 'BE-FIXED', 0, 3]);
  });
});
