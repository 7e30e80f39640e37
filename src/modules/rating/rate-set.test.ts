/**
 * §8.3 the set-based rating (one SQL statement) gives exactly the in-memory reference
 * (`rateCalls` over `zoneFor`): zone by longest prefix of the tariff in force on the local
 * day, pack seconds consumed in start order with invoiced calls kept, cost rounded up.
 */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
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
    // Several clients in one statement, each with its own number of pools (the running sums per pool index).
    const client = fc.record({ calls: fc.array(arbitraryCall, { maxLength: 30 }), rawPools: pools });
    await fc.assert(
      fc.asyncProperty(fc.array(client, { minLength: 1, maxLength: 3 }), async (clients) => {
        const batch = clients.map(({ calls, rawPools }) => {
          const packPools: PackPool[] = rawPools.map((p, i) => ({ product: `P${i}`, zones: p.zones, seconds: p.seconds }));
          return { clientId: newId(), calls, packPools, merged: mergedPools(packPools) };
        });
        fc.pre(batch.every((c) => c.merged !== null));
        for (const c of batch) if (c.calls.length > 0) await db.insert(cdrs).values(c.calls.map((call) => callRow(c.clientId, call)));
        const ids = batch.map((c) => c.clientId);
        const read = async () =>
          (await db.select().from(cdrs).where(inArray(cdrs.clientId, ids)).orderBy(asc(cdrs.id))).map((r) => [r.id, r.ratedAt?.getTime() ?? null, r.zone, r.packSeconds, r.costCents]);
        const at = new Date('2027-01-02T00:00:00+01:00');
        const bySql = await rateMonthSql(db, batch.map((c) => ({ clientId: c.clientId, pools: c.merged! })), '2026-12-01', periods, at);
        const sqlRows = await read();
        await db
          .update(cdrs)
          .set({ ratedAt: null, zone: null, packSeconds: null, costCents: null })
          .where(and(inArray(cdrs.clientId, ids), isNull(cdrs.invoiceId)));
        let inMemory = 0;
        for (const c of batch) inMemory += await rateClientMonthInMemory(db, c.clientId, '2026-12-01', at, c.packPools);
        expect(sqlRows).toEqual(await read());
        expect(bySql).toBe(inMemory);
      }),
      { numRuns: 60 },
    );
  });

  it('consumes a pack in call start order, whatever the order the calls were recorded in (ids), client by client in one statement', async () => {
    const db = database.db;
    const periods = await tariffPeriodsOf(db, '2026-12-01');
    const call = { destination: '+3222223344', direction: 'outbound', emergency: false, allowed: true, ended: true, billableSeconds: 80, invoiced: null } as const;
    const [a, b] = [newId(), newId()];
    // Recorded late call first: its id is the smaller one. Client b has a second pool (FR) before BE-FIXED.
    await db.insert(cdrs).values([callRow(a, { ...call, offsetMs: 2 * 86_400_000 }), callRow(a, { ...call, offsetMs: 86_400_000 }), callRow(b, { ...call, offsetMs: 3 * 86_400_000 }), callRow(b, { ...call, offsetMs: 86_400_000 })]);
    await rateMonthSql(
      db,
      [
        { clientId: a, pools: [{ zones: ['BE-FIXED'], seconds: 100 }] },
        { clientId: b, pools: [{ zones: ['FR'], seconds: 1_000 }, { zones: ['BE-FIXED'], seconds: 100 }] },
      ],
      '2026-12-01',
      periods,
      new Date('2027-01-02T00:00:00+01:00'),
    );
    const rated = async (clientId: string) => (await db.select().from(cdrs).where(eq(cdrs.clientId, clientId)).orderBy(asc(cdrs.startedAt))).map((r) => [r.packSeconds, r.costCents]);
    // 80 s from the pack for the first call, the 20 s left for the second and its 60 s at 0.025 €/min: 2.5 cents → 3.
    expect(await rated(a)).toEqual([[80, 0], [20, 3]]);
    expect(await rated(b)).toEqual([[80, 0], [20, 3]]);
  });

  it('mergedPools: equal zone sets add up, disjoint ones stay apart, overlapping ones are refused', () => {
    expect(mergedPools([{ product: 'A', zones: ['FR'], seconds: 60 }, { product: 'B', zones: ['FR'], seconds: -5 }, { product: 'C', zones: ['FR'], seconds: 30 }])).toEqual([{ zones: ['FR'], seconds: 90 }]);
    expect(mergedPools([{ product: 'A', zones: ['BE-FIXED', 'BE-MOBILE'], seconds: 60 }, { product: 'B', zones: ['FR'], seconds: 10 }])).toHaveLength(2);
    expect(mergedPools([{ product: 'A', zones: ['BE-FIXED', 'BE-MOBILE'], seconds: 60 }, { product: 'B', zones: ['BE-FIXED'], seconds: 10 }])).toBeNull();
  });
});
