import { mkdtempSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, describeEachDb, rowsOf } from '../../test/support/db.ts';
import { MIGRATIONS_FOLDER, MigrationError, PGLITE_YIELD_MS } from './client.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tables(db: { execute: (q: ReturnType<typeof sql>) => Promise<unknown> }): Promise<string[]> {
  const res = (await db.execute(
    sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  )) as { rows: { table_name: string }[] };
  return res.rows.map((r) => r.table_name);
}

describeEachDb('migrations', (kind) => {
  it('apply at start-up and are idempotent', async () => {
    const t = await createTestDatabase(kind);
    cleanups.push(t.drop);
    await t.database.migrate();
    const first = await tables(t.database.db);
    expect(first).toEqual(expect.arrayContaining(['accounts', 'audit_log', 'clients', 'job_runs', 'sessions']));
    await t.database.migrate();
    expect(await tables(t.database.db)).toEqual(first);
    await t.database.ping();
  });

  it('a failing migration stops with a clear error and changes nothing', async () => {
    // A copy of the real migrations plus a broken one that first creates a table.
    const folder = mkdtempSync(join(tmpdir(), 'e2p-mig-'));
    cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(
      (await import('node:fs')).readFileSync(journalPath, 'utf8'),
    ) as { entries: { idx: number; when: number; tag: string; breakpoints: boolean; version: string }[] };
    const last = journal.entries.at(-1)!;
    journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_broken' });
    writeFileSync(journalPath, JSON.stringify(journal));
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, '9999_broken.sql'),
      'CREATE TABLE half_done (id int);\n--> statement-breakpoint\nSELECT * FROM no_such_table;',
    );
    const t = await createTestDatabase(kind, { migrationsFolder: folder });
    cleanups.push(t.drop);
    const err = await t.database.migrate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/migration failed, nothing was changed.*no_such_table.*does not exist/s);
    // All pending migrations run in one transaction: not even the first ones stay.
    expect(await tables(t.database.db)).not.toContain('half_done');
    expect(await tables(t.database.db)).not.toContain('accounts');
  });
});

describeEachDb('the event loop', (kind) => {
  it('gets a turn while transactions run back to back (PGlite runs in this thread)', async () => {
    const created = await createTestDatabase(kind);
    cleanups.push(() => created.drop());
    const { db } = created.database;
    let turns = 0;
    setImmediate(() => turns++);
    // Several yield periods of back-to-back transactions (the loop's bound, not an assertion).
    const start = performance.now();
    let transactions = 0;
    while (performance.now() - start < 5 * PGLITE_YIELD_MS || transactions < 20) {
      await db.transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`);
      });
      await db.execute(sql`SELECT 2`);
      transactions++;
    }
    expect(turns).toBe(1);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('the PostgreSQL server connections', () => {
  it('run without JIT compilation, every connection of the pool, set before the pool hands it out (issue #4)', async () => {
    // Node warns of a deprecation once per process: listened to before the first connection.
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    cleanups.push(() => {
      process.off('warning', onWarning);
      return Promise.resolve();
    });
    const created = await createTestDatabase('postgres');
    cleanups.push(() => created.drop());
    const { db } = created.database;
    // Statements straight on the pool (no transaction) at once: new connections, each
    // handed its first query at once as it comes up.
    await Promise.all(Array.from({ length: 5 }, () => db.execute(sql`SELECT pg_sleep(0.01)`)));
    // Held at once: five distinct connections, each asked on its own.
    const settings = await Promise.all(
      Array.from({ length: 5 }, () =>
        db.transaction(async (tx) => {
          const r = await tx.execute(sql`SELECT current_setting('jit') AS jit, pg_backend_pid() AS pid, pg_sleep(0.05)`);
          return rowsOf<{ jit: string; pid: number }>(r)[0]!;
        }),
      ),
    );
    expect(new Set(settings.map((s) => s.pid)).size).toBe(5);
    expect(settings.map((s) => s.jit)).toEqual(['off', 'off', 'off', 'off', 'off']);
    // The SET ran before the connection was handed out, not queued beside its first query.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((m) => /already executing a query/u.test(m))).toEqual([]);
  });
});
