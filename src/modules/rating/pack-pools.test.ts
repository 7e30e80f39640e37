/**
 * §8.3 pack pools of many clients read at once (`packPoolsOfClients`, three statements):
 * the current contract (last created), its pack lines with a quantity, the pack version
 * in force on the 1st of the month or on the service start when later (§8.2), prorated.
 */
import { expect, it } from 'vitest';
import { describeEachDb, useMigratedDatabase } from '../../../test/support/db.ts';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { productVersions, products } from '../catalog/schema.ts';
import { clients, contractLines, contracts } from '../customers/schema.ts';
import { packPoolsOf, packPoolsOfClients } from './rate-client-month.ts';

describeEachDb('§8.3 pack pools of many clients', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  it('reads the pools of the current contract of each client, version and proration included', async () => {
    const db = database.db;
    const createdAt = new Date('2026-01-01T00:00:00Z');
    await db.insert(products).values([
      { code: 'PACK-FR', name: 'France', kind: 'pack', unit: 'fixed', createdAt },
      { code: 'PACK-BE', name: 'Belgium', kind: 'pack', unit: 'fixed', createdAt },
      { code: 'USER', name: 'User', kind: 'recurring', unit: 'user', createdAt },
    ]);
    await db.insert(productVersions).values([
      { productCode: 'PACK-BE', effective: '2026-01-01', priceCents: 900, packMinutes: 100, packZones: ['BE-FIXED'], createdAt },
      // In force from the 10th: a client starting on the 20th gets it, the others the first.
      { productCode: 'PACK-BE', effective: '2026-12-10', priceCents: 900, packMinutes: 310, packZones: ['BE-FIXED', 'BE-MOBILE'], createdAt },
      { productCode: 'PACK-FR', effective: '2026-01-01', priceCents: 500, packMinutes: 60, packZones: ['FR'], createdAt },
      { productCode: 'USER', effective: '2026-01-01', priceCents: 1250, createdAt },
    ]);
    const client = async (contractsOf: { state: 'draft' | 'active' | 'terminating'; start: string | null; end?: string; lines: [string, number][]; at: string }[]) => {
      const id = newId();
      await db.insert(clients).values({ id, name: 'C', createdAt });
      for (const c of contractsOf) {
        const contractId = newId();
        await db.insert(contracts).values({ id: contractId, clientId: id, state: c.state, serviceStartDate: c.start, endDate: c.end ?? null, createdAt: new Date(c.at) });
        if (c.lines.length > 0) await db.insert(contractLines).values(c.lines.map(([productCode, quantity]) => ({ clientId: id, contractId, productCode, quantity })));
      }
      return id;
    };
    const full = await client([{ state: 'active', start: '2026-03-01', lines: [['USER', 5], ['PACK-FR', 1], ['PACK-BE', 2]], at: '2026-02-01T00:00:00Z' }]);
    const lateStart = await client([{ state: 'active', start: '2026-12-20', lines: [['PACK-BE', 1]], at: '2026-11-01T00:00:00Z' }]);
    const ending = await client([{ state: 'terminating', start: '2026-03-01', end: '2026-12-15', lines: [['PACK-FR', 1], ['PACK-BE', 0]], at: '2026-02-01T00:00:00Z' }]);
    // The last created contract is the current one: a newer draft has no pools in force.
    const redrafted = await client([
      { state: 'active', start: '2026-03-01', lines: [['PACK-FR', 1]], at: '2026-02-01T00:00:00Z' },
      { state: 'draft', start: null, lines: [['PACK-FR', 3]], at: '2026-11-01T00:00:00Z' },
    ]);
    const notStarted = await client([{ state: 'active', start: null, lines: [['PACK-FR', 1]], at: '2026-02-01T00:00:00Z' }]);
    const none = newId();
    const ids = [full, lateStart, ending, redrafted, notStarted, none];
    const pools = await packPoolsOfClients(db, ids, '2026-12-17');
    expect(ids.map((id) => pools.get(id))).toEqual([
      // Products in code order; 2 × 100 min = 12 000 s.
      [
        { product: 'PACK-BE', zones: ['BE-FIXED'], seconds: 12_000 },
        { product: 'PACK-FR', zones: ['FR'], seconds: 3_600 },
      ],
      // The version of the 20th (310 min), 12 days of 31: floor(18 600 × 12 / 31) = 7 200.
      [{ product: 'PACK-BE', zones: ['BE-FIXED', 'BE-MOBILE'], seconds: 7_200 }],
      // Until the 15th: floor(3 600 × 15 / 31) = 1 741; a quantity of 0 gives no pool.
      [{ product: 'PACK-FR', zones: ['FR'], seconds: 1_741 }],
      [],
      [],
      [],
    ]);
    expect(await packPoolsOf(db, lateStart, '2026-12-01')).toEqual(pools.get(lateStart));
    expect(await packPoolsOfClients(db, [], '2026-12-01')).toEqual(new Map());
  });
});
