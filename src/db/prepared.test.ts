/**
 * `queryRows` (issue #4): a named statement first run on an empty table is planned again
 * once the table has grown — PostgreSQL would otherwise keep, for the life of the
 * connection, the generic plan made when the table was empty (a hash join over a sequential
 * scan of the whole table for each batch). PostgreSQL server only: PGlite runs every
 * statement unnamed, planned at each execution.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, rowsOf } from '../../test/support/db.ts';
import type { Database } from './client.ts';
import { queryRows, REPLAN_FIRST } from './prepared.ts';

const UPDATE = `
  UPDATE replan_probe SET seen = seen + 1
  FROM json_to_recordset($1::json) AS v(id uuid)
  WHERE replan_probe.id = v.id`;

describe.runIf(process.env.TEST_DATABASE_URL)('queryRows on PostgreSQL', () => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await createTestDatabase('postgres'));
    await database.db.execute(sql`CREATE TABLE replan_probe (id uuid PRIMARY KEY, seen int NOT NULL DEFAULT 0, pad text)`);
  });
  afterAll(() => drop());

  /** Rows of `replan_probe` the statement read by sequential scans, counted in its own transaction (on the connection that runs it). */
  async function seqRowsRead(ids: string[]): Promise<number> {
    return database.db.transaction(async (tx) => {
      const read = async (): Promise<number> => {
        const r = await tx.execute(sql`SELECT coalesce(seq_tup_read, 0)::text AS n FROM pg_stat_xact_user_tables WHERE relname = 'replan_probe'`);
        return Number(rowsOf<{ n: string }>(r)[0]?.n ?? 0);
      };
      const before = await read();
      await queryRows(tx, 'e2p_replan_probe', UPDATE, [JSON.stringify(ids.map((id) => ({ id })))]);
      return (await read()) - before;
    });
  }

  it('plans the statement again once its table has grown: index probes, not a scan of the table per batch', async () => {
    const few = [randomUUID(), randomUUID(), randomUUID()];
    await database.db.execute(sql`INSERT INTO replan_probe (id) SELECT unnest(${`{${few.join(',')}}`}::uuid[])`);
    // Six executions and more on a three-row table (never analysed): its generic plan is made for a tiny table.
    for (let i = 0; i < REPLAN_FIRST - 2; i += 1) expect(await seqRowsRead(few)).toBeLessThanOrEqual(few.length);
    await database.db.execute(sql`INSERT INTO replan_probe (id, pad) SELECT gen_random_uuid(), repeat('x', 200) FROM generate_series(1, 60000)`);
    // The statement's executions pass 32, then 64: planned again with the table as it is now.
    let last = Infinity;
    for (let i = 0; i < 2 * REPLAN_FIRST + 8; i += 1) last = await seqRowsRead(few);
    expect(last).toBe(0);
    const seen = rowsOf<{ seen: number }>(await database.db.execute(sql`SELECT seen FROM replan_probe WHERE id = ${few[0]}::uuid`));
    expect(seen[0]?.seen).toBe(REPLAN_FIRST - 2 + 2 * REPLAN_FIRST + 8);
  });
});
