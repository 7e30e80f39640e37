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
  const { dialect, session } = db as unknown as DrizzleInternals;
  return session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false).execute();
}
