/**
 * §8.3 the whole-month rating in physical order (rate-month.ts) gives exactly the in-memory
 * reference for every client, whatever the chunks and slices of the write-back; it writes
 * only the row versions its snapshot saw (a call changed, ended or inserted meanwhile keeps
 * what the other transaction wrote); an empty month rates nothing; a DST month takes its
 * calls by local month bounds.
 */
import { asc, eq, isNull, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../../test/support/db.ts';
import { arbitraryCall, callRow, answeredCall } from '../../../test/support/rating-calls.ts';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { tariffVersions, tariffZones } from '../catalog/schema.ts';
import type { PackPool } from './call-rating.ts';
import { rateClientMonthInMemory } from './rate-client-month.ts';
import { rateMonthWithPools } from './rate-month.ts';

const ZONE_SETS = [['BE-FIXED'], ['BE-MOBILE'], ['BE-FIXED', 'BE-MOBILE'], ['FR']];
const client = fc.record({
  calls: fc.array(arbitraryCall, { maxLength: 25 }),
  pools: fc.array(fc.record({ zones: fc.constantFrom(...ZONE_SETS), seconds: fc.integer({ min: 0, max: 8_000 }) }), { maxLength: 3 }),
});

type Row = [string, number | null, string | null, number | null, number | null];

describeEachDb('§8.3 whole-month rating in physical order', (kind) => {
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
  const insertCall = async (clientId: string, startedAt: Date, extra: Partial<typeof cdrs.$inferInsert> = {}): Promise<string> => {
    const row = answeredCall(clientId, startedAt, 60, extra);
    await database.db.insert(cdrs).values(row);
    return row.id;
  };
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
    expect(await rateMonthWithPools(database.db, '2026-08-01', at, new Map())).toBe(0);
  });

  it('gives every client the in-memory result, with chunks of one page and slices of a few rows (overlapping pools included)', async () => {
    const db = database.db;
    await fc.assert(
      fc.asyncProperty(fc.array(client, { minLength: 1, maxLength: 3 }), async (generated) => {
        await db.execute(sql`truncate cdrs`);
        const pools = new Map<string, PackPool[]>();
        const ids: string[] = [];
        for (const c of generated) {
          const clientId = newId();
          ids.push(clientId);
          pools.set(
            clientId,
            c.pools.map((p, i) => ({ product: `P${i}`, zones: p.zones, seconds: p.seconds })),
          );
          if (c.calls.length === 0) continue;
          await db.insert(cdrs).values(c.calls.map((k) => callRow(clientId, k)));
        }
        const n = await rateMonthWithPools(db, '2026-12-01', at, pools, { chunkPages: 1, slices: [1, 3, 5, 9] });
        const byMonth = await Promise.all(ids.map(rowsOf));
        await db.update(cdrs).set({ ratedAt: null, zone: null, packSeconds: null, costCents: null }).where(isNull(cdrs.invoiceId));
        let reference = 0;
        for (const id of ids) reference += await rateClientMonthInMemory(db, id, '2026-12-01', at, pools.get(id));
        expect(byMonth).toEqual(await Promise.all(ids.map(rowsOf)));
        expect(n).toBe(reference);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('leaves a call changed, ended or inserted after its snapshot as the other transaction wrote it', async () => {
    await database.db.execute(sql`truncate cdrs`);
    const clientId = newId();
    const start = Date.parse('2026-12-05T10:00:00+01:00');
    const changed = await insertCall(clientId, new Date(start));
    const open = await insertCall(clientId, new Date(start + 60_000), { endedAt: null });
    const kept = await insertCall(clientId, new Date(start + 120_000));
    let late = '';
    const n = await rateMonthWithPools(database.db, '2026-12-01', at, new Map([[clientId, [{ product: 'P', zones: ['BE-FIXED'], seconds: 90 }]]]), {
      chunkPages: 1,
      onPhase: async ({ phase }) => {
        if (phase !== 'cuts') return;
        // Between the snapshot of the cuts and the write-back: three other transactions.
        await database.db.update(cdrs).set({ ratedAt: new Date(), zone: 'OTHER', packSeconds: 0, costCents: 4242 }).where(eq(cdrs.id, changed));
        await database.db.update(cdrs).set({ endedAt: new Date(start + 120_000), billableSeconds: 60 }).where(eq(cdrs.id, open));
        late = await insertCall(clientId, new Date(start - 60_000));
      },
    });
    expect(n).toBe(1);
    const byId = new Map((await rowsOf(clientId)).map((r) => [r[0], r.slice(2)]));
    expect(byId.get(changed)).toEqual(['OTHER', 0, 4242]);
    expect(byId.get(open)).toEqual([null, null, null]);
    expect(byId.get(late)).toEqual([null, null, null]);
    // The snapshot saw `changed` (60 s) before `kept`: 30 s of the 90 s pack were left for it.
    expect(byId.get(kept)).toEqual(['BE-FIXED', 30, 2]); // ceil(30 × 25 000 ÷ 600 000) = ceil(1.25)
  });

  it('takes the calls of a DST month by its local bounds (March 2027: 1 March 00:00 CET to 1 April 00:00 CEST)', async () => {
    await database.db.execute(sql`truncate cdrs`);
    const clientId = newId();
    const before = await insertCall(clientId, new Date('2027-02-28T23:59:59+01:00'));
    const firstCall = await insertCall(clientId, new Date('2027-03-01T00:00:00+01:00'));
    const lastCall = await insertCall(clientId, new Date('2027-03-31T23:59:59+02:00'));
    const after = await insertCall(clientId, new Date('2027-04-01T00:00:00+02:00'));
    expect(await rateMonthWithPools(database.db, '2027-03-15', at, new Map())).toBe(2);
    const rated = new Map((await rowsOf(clientId)).map((r) => [r[0], r[4]]));
    expect([rated.get(before), rated.get(firstCall), rated.get(lastCall), rated.get(after)]).toEqual([null, 3, 3, null]); // ceil(60 × 25 000 ÷ 600 000) = ceil(2.5)
    // Rerating is idempotent.
    const again = await database.db.execute(sql`select count(*)::integer as n from cdrs where client_id = ${clientId}::uuid and rated_at is not null`);
    expect((again as { rows: { n: number }[] }).rows[0]!.n).toBe(2);
    expect(await rateMonthWithPools(database.db, '2027-03-15', at, new Map())).toBe(2);
    expect(new Map((await rowsOf(clientId)).map((r) => [r[0], r[4]])).get(lastCall)).toBe(3);
  });
});
