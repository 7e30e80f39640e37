/** Named prepared statements for the hot raw-SQL statements (issue #4). */
import type { SQL } from 'drizzle-orm';
import type { DbOrTx } from './client.ts';

interface DrizzleInternals {
  readonly dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  readonly session: { prepareQuery(query: { sql: string; params: unknown[] }, fields: undefined, name: string, arrayMode: false): { execute(): Promise<unknown> } };
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
  const { sql: text, params } = (db as unknown as DrizzleInternals).dialect.sqlToQuery(query);
  return executePreparedText(db, name, text, params);
}

/**
 * The same for a statement written as its text (`$1`, `$2`, … placeholders) and its
 * parameters: nothing is built per execution — the writers of the call path (CDRs,
 * policy decisions) run one such statement per batch, their rows as parameter arrays.
 */
export function executePreparedText(db: DbOrTx, name: string, text: string, params: unknown[]): Promise<unknown> {
  return (db as unknown as DrizzleInternals).session.prepareQuery({ sql: text, params }, undefined, name, false).execute();
}
