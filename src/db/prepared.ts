/** Named prepared statements for the hot raw-SQL statements (issue #4). */
import type { SQL } from 'drizzle-orm';
import pg from 'pg';
import type { DbOrTx } from './client.ts';

interface PreparedQuery {
  execute(placeholderValues?: Record<string, unknown>): Promise<unknown>;
}

interface DrizzleInternals {
  readonly dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  readonly session: { prepareQuery(query: { sql: string; params: unknown[] }, fields: undefined, name: string, arrayMode: false): PreparedQuery };
}

/**
 * Runs `query` as a NAMED prepared statement: PostgreSQL parses it once per connection
 * and, after five executions, keeps a generic plan — the registrar's location statement
 * took 3–5 ms to plan every time, as long as executing a batch. `query` must always give
 * the same text (only its parameters vary): one name, one text. PGlite ignores the name
 * (one in-process backend, nothing to save on the wire). Drizzle has no public way to
 * name a raw SQL statement: this is what its query builder's `.prepare(name)` does
 * underneath. Not for a pooler in transaction mode (PgBouncer < 1.21), which does not
 * keep a connection's prepared statements.
 */
export function executePrepared(db: DbOrTx, name: string, query: SQL): Promise<unknown> {
  const { dialect, session } = db as unknown as DrizzleInternals;
  return session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false).execute();
}

/** The driver behind a drizzle handle: a `pg.Pool` or `pg` client (a transaction's), or PGlite (or its transaction). */
interface PgDriver {
  query(config: { name: string; text: string; values: unknown[]; rowMode: 'array' }): Promise<{ rows: unknown[][] }>;
}
interface PgliteDriver {
  query(text: string, params: unknown[], options: { rowMode: 'array' }): Promise<{ rows: unknown[][] }>;
}

/**
 * A named prepared statement given as its text (`$1`, `$2`, …), run straight on the driver
 * behind `db` with its rows as ARRAYS, in the order of the SELECT list: no drizzle
 * execution path, no object per row, no type conversion beyond the driver's (issue #4: the
 * REGISTER's location statement spent more node CPU in the result's plumbing than PostgreSQL
 * in the statement). The caller picks column types the driver returns as they are wanted
 * (text, int4, float8 — a timestamp as float8 epoch milliseconds rather than a date to parse).
 * Same server-side behaviour as `executePrepared`; in a transaction it runs on the
 * transaction's connection. The writers of the call path (CDRs, policy decisions) run one
 * such statement per batch, their rows as one JSON parameter, and ignore the rows.
 */
export async function queryRows(db: DbOrTx, name: string, text: string, values: unknown[]): Promise<unknown[][]> {
  const client = (db as unknown as { session: { client: unknown } }).session.client;
  const result =
    client instanceof pg.Pool || client instanceof pg.Client
      ? await (client as PgDriver).query({ name, text, values, rowMode: 'array' })
      : await (client as PgliteDriver).query(text, values, { rowMode: 'array' });
  return result.rows;
}
