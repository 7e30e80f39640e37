import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';

/** A node of `EXPLAIN (ANALYZE, FORMAT JSON)`, with the fields the plan tests read. */
export interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Actual Rows': number;
  readonly 'Actual Loops': number;
  readonly Plans?: PlanNode[];
}

/**
 * Runs `EXPLAIN (ANALYZE, FORMAT JSON)` of `statement` (a text with its parameters written in as
 * literals, or a drizzle `SQL` with bound ones) and returns every node of the plan, depth first
 * (PGlite gives the JSON as text, pg as a value).
 */
export async function explainAnalyzed(database: Database, statement: string | SQL): Promise<PlanNode[]> {
  const query = typeof statement === 'string' ? sql.raw(statement) : statement;
  const result = (await database.db.execute(sql`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`)) as { rows: Record<string, unknown>[] };
  const raw = Object.values(result.rows[0]!)[0];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
  const nodes: PlanNode[] = [];
  const walk = (n: PlanNode): void => {
    nodes.push(n);
    n.Plans?.forEach(walk);
  };
  walk(plan[0].Plan);
  return nodes;
}
