/** Named prepared statements for the hot raw-SQL statements (issue #4), planned again as their tables grow. */
import pg from 'pg';
import type { DbOrTx } from './client.ts';

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
 * PostgreSQL parses it once per connection and, after five executions, keeps a generic plan
 * (the registrar's location statement took 3–5 ms to plan every time, as long as executing a
 * batch), planned again as the data grows (`generationName`). PGlite ignores the name (one
 * in-process backend, nothing to save on the wire). Not for a pooler in transaction mode
 * (PgBouncer < 1.21), which does not keep a connection's prepared statements. In a
 * transaction it runs on the transaction's connection. The writers of the call path (CDRs,
 * policy decisions) run one such statement per batch, their rows as one JSON parameter, and
 * ignore the rows.
 */
export async function queryRows(db: DbOrTx, name: string, text: string, values: unknown[]): Promise<unknown[][]> {
  const client = (db as unknown as { session: { client: unknown } }).session.client;
  const result =
    client instanceof pg.Pool || client instanceof pg.Client
      ? await (client as PgDriver).query({ name: generationName(name), text, values, rowMode: 'array' })
      : await (client as PgliteDriver).query(text, values, { rowMode: 'array' });
  return result.rows;
}

/** Executions of each `queryRows` statement in this process. */
const executions = new Map<string, number>();
/** The first replanning after this many executions, then after each doubling. */
export const REPLAN_FIRST = 32;

/**
 * The server-side name of the `queryRows` statement `name` for this execution: `name`, then
 * `name_g1` from its 32nd execution, `name_g2` from its 64th, `name_g3` from its 128th… — a
 * new generation at each doubling, which every connection prepares (and plans) afresh.
 * PostgreSQL keeps a named statement's generic plan for as long as the statement lives, and
 * plans it from the table's size at its sixth execution: a table that was empty then (a new
 * database, a bench run, the first calls of a node) keeps a plan made for an empty table
 * once it holds millions of rows. On a table the planner believes small, a hash join over a
 * sequential scan is cheaper than probing an index for each of a batch's rows, and it stays
 * so until an ANALYZE invalidates the plan — never when autovacuum is off, a minute later at
 * best when it is on. Seen in bench:sip (issue #4): the CDR and policy-decision batches
 * hashed the whole of `cdrs` / `policy_decisions` for every batch (23 M and 28 M rows read
 * for 40 000 calls), the registrar's DELETE the whole of `sip_bindings` for each batch of
 * REGISTERs. The tables of the call path grow with the traffic that runs these statements,
 * so their size doubles about as often as the executions do: each statement is planned
 * again some 25 times in a billion executions, with the table's size of the moment (a
 * never-analysed table is sized from its pages). The old generations stay prepared on the
 * connections that used them (a few plans each), unused.
 */
function generationName(name: string): string {
  const n = (executions.get(name) ?? 0) + 1;
  executions.set(name, n);
  return n < REPLAN_FIRST ? name : `${name}_g${Math.floor(Math.log2(n / REPLAN_FIRST)) + 1}`;
}
