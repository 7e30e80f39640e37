/**
 * §8.3 the set-based rating (one SQL statement) gives exactly the in-memory reference
 * (`rateCalls` over `zoneFor`): zone by longest prefix of the tariff in force on the local
 * day, pack seconds consumed in start order with invoiced calls kept, cost rounded up.
 */
import { and, asc, eq, isNull } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../../test/support/db.ts';
import { arbitraryCall, callRow } from '../../../test/support/rating-calls.ts';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { tariffVersions, tariffZones } from '../catalog/schema.ts';
import type { PackPool } from './call-rating.ts';
import { rateClientMonthInMemory } from './rate-client-month.ts';
import { mergedPools, rateMonthSql, tariffPeriodsOf } from './rate-set.ts';

const ZONE_SETS = [['BE-FIXED'], ['BE-MOBILE'], ['BE-FIXED', 'BE-MOBILE'], ['FR'], ['XX']];

const pools = fc.array(fc.record({ zones: fc.constantFrom(...ZONE_SETS), seconds: fc.integer({ min: 0, max: 8_000 }) }), { maxLength: 3 });

describeEachDb('§8.3 set-based rating = in-memory rating', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
    const db = database.db;
    const createdAt = new Date('2026-10-01T00:00:00Z');
    await db.insert(tariffZones).values(['BE-FIXED', 'BE-MOBILE', 'FR', 'XX'].map((code) => ({ code, createdAt })));
    await db.insert(tariffVersions).values([
      { zone: 'BE-FIXED', effective: '2026-11-01', perMinuteMicros: 25_000, prefixes: ['+32'], createdAt },
      { zone: 'BE-MOBILE', effective: '2026-11-01', perMinuteMicros: 85_000, prefixes: ['+3247', '+3248'], createdAt },
      { zone: 'FR', effective: '2026-11-01', perMinuteMicros: 40_000, prefixes: ['+33'], createdAt },
      // A price change in the middle of the month (local day 15), and on day 20 a zone with the same
      // prefix as BE-FIXED: BE-FIXED still wins (first in code order, as longestPrefixMatch).
      { zone: 'BE-MOBILE', effective: '2026-12-15', perMinuteMicros: 91_111, prefixes: ['+3247'], createdAt },
      { zone: 'XX', effective: '2026-12-20', perMinuteMicros: 1, prefixes: ['+32', '+49'], createdAt },
    ]);
  });
  afterAll(async () => drop());

  it('gives the same zone, pack seconds and cost for every call, and rates the same calls', async () => {
    const db = database.db;
    const periods = await tariffPeriodsOf(db, '2026-12-01');
    expect(periods.map((p) => p.from.toISOString())).toEqual(['2026-11-30T23:00:00.000Z', '2026-12-14T23:00:00.000Z', '2026-12-19T23:00:00.000Z']);
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraryCall, { maxLength: 40 }), pools, async (calls, rawPools) => {
        const packPools: PackPool[] = rawPools.map((p, i) => ({ product: `P${i}`, zones: p.zones, seconds: p.seconds }));
        const merged = mergedPools(packPools);
        fc.pre(merged !== null);
        const clientId = newId();
        if (calls.length > 0) await db.insert(cdrs).values(calls.map((c) => callRow(clientId, c)));
        const read = async () =>
          (await db.select().from(cdrs).where(eq(cdrs.clientId, clientId)).orderBy(asc(cdrs.id))).map((r) => [r.id, r.ratedAt?.getTime() ?? null, r.zone, r.packSeconds, r.costCents]);
        const at = new Date('2027-01-02T00:00:00+01:00');
        const bySql = await rateMonthSql(db, [{ clientId, pools: merged }], '2026-12-01', periods, at);
        const sqlRows = await read();
        await db
          .update(cdrs)
          .set({ ratedAt: null, zone: null, packSeconds: null, costCents: null })
          .where(and(eq(cdrs.clientId, clientId), isNull(cdrs.invoiceId)));
        const inMemory = await rateClientMonthInMemory(db, clientId, '2026-12-01', at, packPools);
        expect(sqlRows).toEqual(await read());
        expect(bySql).toBe(inMemory);
      }),
      { numRuns: 60 },
    );
  });

  it('mergedPools: equal zone sets add up, disjoint ones stay apart, overlapping ones are refused', () => {
    expect(mergedPools([{ product: 'A', zones: ['FR'], seconds: 60 }, { product: 'B', zones: ['FR'], seconds: -5 }, { product: 'C', zones: ['FR'], seconds: 30 }])).toEqual([{ zones: ['FR'], seconds: 90 }]);
    expect(mergedPools([{ product: 'A', zones: ['BE-FIXED', 'BE-MOBILE'], seconds: 60 }, { product: 'B', zones: ['FR'], seconds: 10 }])).toHaveLength(2);
    expect(mergedPools([{ product: 'A', zones: ['BE-FIXED', 'BE-MOBILE'], seconds: 60 }, { product: 'B', zones: ['BE-FIXED'], seconds: 10 }])).toBeNull();
  });
});
