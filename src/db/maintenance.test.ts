import { sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { describeEachDb, useMigratedDatabase } from '../../test/support/db.ts';
import type { Database } from './client.ts';
import { maintainEmbeddedDatabase, maintenanceNeeds, startEmbeddedMaintenance, tableStates, type MaintenanceAction, type TableState } from './maintenance.ts';

const table = (over: Partial<TableState>): TableState => ({
  table: 'public.t',
  catalog: false,
  reltuples: 1000,
  deadRows: 0,
  insertedSinceVacuum: 0,
  modifiedSinceAnalyze: 0,
  xidAge: 1000,
  ...over,
});

describe('maintenanceNeeds (autovacuum rules, PostgreSQL 15 defaults)', () => {
  it('vacuums past 50 + 20 % dead rows, not at it', () => {
    expect(maintenanceNeeds([table({ deadRows: 250 })])).toEqual([]);
    expect(maintenanceNeeds([table({ deadRows: 251 })])).toEqual([{ table: 'public.t', vacuum: true, analyze: false, reasons: ['dead rows 251 > 250'] }]);
  });

  it('vacuums past 1000 + 20 % rows inserted since the last vacuum', () => {
    expect(maintenanceNeeds([table({ insertedSinceVacuum: 1200 })])).toEqual([]);
    expect(maintenanceNeeds([table({ insertedSinceVacuum: 1201 })])[0]).toMatchObject({ vacuum: true, analyze: false });
  });

  it('analyses past 50 + 10 % rows changed, a never-analysed table (reltuples −1) counting as empty', () => {
    expect(maintenanceNeeds([table({ modifiedSinceAnalyze: 150 })])).toEqual([]);
    expect(maintenanceNeeds([table({ modifiedSinceAnalyze: 151 })])).toEqual([{ table: 'public.t', vacuum: false, analyze: true, reasons: ['changed 151 > 150'] }]);
    expect(maintenanceNeeds([table({ reltuples: -1, modifiedSinceAnalyze: 50 })])).toEqual([]);
    expect(maintenanceNeeds([table({ reltuples: -1, modifiedSinceAnalyze: 51 })])[0]).toMatchObject({ analyze: true, reasons: ['changed 51 > 50'] });
  });

  it('vacuums any table, system catalogs included, whose oldest unfrozen transaction is older than 200 million', () => {
    expect(maintenanceNeeds([table({ catalog: true, xidAge: 200_000_000 })])).toEqual([]);
    expect(maintenanceNeeds([table({ catalog: true, xidAge: 200_000_001 })])).toEqual([
      { table: 'public.t', vacuum: true, analyze: false, reasons: ['xid age 200000001 > 200000000'] },
    ]);
  });

  it('leaves catalogs alone for dead and changed rows (their changes are migrations)', () => {
    expect(maintenanceNeeds([table({ catalog: true, deadRows: 10_000, insertedSinceVacuum: 10_000, modifiedSinceAnalyze: 10_000 })])).toEqual([]);
  });

  it('gives every reason that applies', () => {
    expect(maintenanceNeeds([table({ deadRows: 300, modifiedSinceAnalyze: 300, xidAge: 300_000_000 })])[0]!.reasons).toEqual([
      'xid age 300000000 > 200000000',
      'dead rows 300 > 250',
      'changed 300 > 150',
    ]);
  });
});

/** The statistics of `t` once the backend's pending counters are flushed (PostgreSQL 15 flushes at most once a second). */
async function statsOf(database: Database, name: string): Promise<TableState> {
  await database.db.execute(sql`SELECT pg_stat_force_next_flush()`);
  await database.db.execute(sql`SELECT 1`);
  const found = (await tableStates(database)).find((t) => t.table === `public.${name}`);
  if (!found) throw new Error(`no statistics for ${name}`);
  return found;
}

describeEachDb('maintainEmbeddedDatabase', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  it(kind === 'pglite' ? 'vacuums and analyses the tables that need it, one statement each, and leaves the others' : 'does nothing on a PostgreSQL server (its autovacuum does it)', async () => {
    // autovacuum_enabled = false: the server's own autovacuum must not race the test.
    await database.db.execute(sql`CREATE TABLE maint_busy (id integer PRIMARY KEY, v text) WITH (autovacuum_enabled = false)`);
    await database.db.execute(sql`CREATE TABLE maint_quiet (id integer PRIMARY KEY) WITH (autovacuum_enabled = false)`);
    await database.db.execute(sql`INSERT INTO maint_busy SELECT g, 'a' FROM generate_series(1, 2000) g`);
    await database.db.execute(sql`UPDATE maint_busy SET v = 'b' WHERE id <= 600`);
    await database.db.execute(sql`INSERT INTO maint_quiet SELECT g FROM generate_series(1, 10) g`);
    const before = await statsOf(database, 'maint_busy');
    expect(before.deadRows).toBe(600);
    const result = await maintainEmbeddedDatabase(database);
    if (kind === 'postgres') {
      expect(result).toEqual({ skipped: true, actions: [] });
      return;
    }
    expect(result.skipped).toBe(false);
    expect(result.actions.find((a) => a.table === 'public.maint_busy')).toMatchObject({ vacuum: true, analyze: true });
    expect(result.actions.find((a) => a.table === 'public.maint_quiet')).toBeUndefined();
    const after = await statsOf(database, 'maint_busy');
    expect(after).toMatchObject({ reltuples: 2000, deadRows: 0, insertedSinceVacuum: 0, modifiedSinceAnalyze: 0 });
    const quiet = await database.db.execute(sql`SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'maint_quiet'`);
    expect((quiet as { rows: unknown[] }).rows).toEqual([{ last_vacuum: null, last_analyze: null }]);
    // A second pass finds nothing left to do for them.
    const again = await maintainEmbeddedDatabase(database);
    expect(again.actions.filter((a) => a.table.startsWith('public.maint_'))).toEqual([]);
  });
});

describeEachDb('startEmbeddedMaintenance', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  it(kind === 'pglite' ? 'vacuums on its own, tick after tick, and stop waits for the pass under way' : 'starts no timer on a PostgreSQL server', async () => {
    await database.db.execute(sql`CREATE TABLE maint_timer (id integer PRIMARY KEY) WITH (autovacuum_enabled = false)`);
    await database.db.execute(sql`INSERT INTO maint_timer SELECT g FROM generate_series(1, 300) g`);
    await database.db.execute(sql`DELETE FROM maint_timer WHERE id <= 200`);
    await database.db.execute(sql`SELECT pg_stat_force_next_flush()`);
    const passes: MaintenanceAction[][] = [];
    const errors: unknown[] = [];
    const maintenance = startEmbeddedMaintenance(database, { intervalMs: 20, onPass: (a) => passes.push(a), onError: (e) => errors.push(e) });
    try {
      if (kind === 'postgres') {
        await new Promise((r) => setTimeout(r, 100));
        expect(passes).toEqual([]);
        return;
      }
      await vi.waitFor(() => expect(passes.flat().some((a) => a.table === 'public.maint_timer' && a.vacuum)).toBe(true), { timeout: 5_000 });
      await vi.waitFor(() => expect(passes.length).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    } finally {
      await maintenance.stop();
    }
    const count = passes.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(passes.length).toBe(count);
    expect(errors).toEqual([]);
    const stats = await database.db.execute(sql`SELECT last_vacuum IS NOT NULL AS vacuumed FROM pg_stat_user_tables WHERE relname = 'maint_timer'`);
    expect((stats as { rows: unknown[] }).rows).toEqual([{ vacuumed: true }]);
  });
});
