/**
 * Autovacuum for the embedded database. PostgreSQL's autovacuum launcher is a background
 * process; PGlite runs none, so without this a PGlite database is never vacuumed nor
 * analysed: dead row versions that page pruning cannot reclaim pile up (indexes grow for
 * ever), the planner keeps the statistics of the day a table was empty (a batch of SIP
 * credential reads then read every user: commit c899ce0), and transaction ids are never
 * frozen — past ≈ 2 billion transactions the database stops accepting writes to protect
 * itself. `startEmbeddedMaintenance` (started by `easy2phone start`) applies autovacuum's
 * own rules, with the server's default settings, to every table of the embedded database
 * once a minute of real time (autovacuum's naptime); on a PostgreSQL server it does nothing
 * (the server's autovacuum does it there). Real time, not the business scheduler: it is the
 * database's upkeep, not a rule of the contract, and a scenario's simulated months in a
 * throw-away database need none.
 *
 * Rules (PostgreSQL 15 defaults, "The Autovacuum Daemon"): with R = `reltuples` (0 when the
 * table was never analysed),
 * - vacuum when dead rows > 50 + 0.2 × R, or rows inserted since the last vacuum >
 *   1000 + 0.2 × R (sets the visibility map, freezes inserted rows early), or the table's
 *   oldest unfrozen transaction id is older than 200 million (anti-wraparound);
 * - analyse when rows changed since the last analyse > 50 + 0.1 × R.
 * System catalogs are vacuumed only against wraparound: their changes come from
 * migrations, not from traffic.
 * One statement per table, so the SIP node's statements run between them (PGlite serves
 * one statement at a time).
 */
import { sql } from 'drizzle-orm';
import type { Database } from './client.ts';

export const AUTOVACUUM = {
  vacuumThreshold: 50,
  vacuumScaleFactor: 0.2,
  insertThreshold: 1000,
  insertScaleFactor: 0.2,
  analyzeThreshold: 50,
  analyzeScaleFactor: 0.1,
  freezeMaxAge: 200_000_000,
} as const;

/** What the statistics say of one table. */
export interface TableState {
  /** Qualified and quoted (`public.cdrs`, `pg_catalog.pg_class`). */
  readonly table: string;
  readonly catalog: boolean;
  /** `pg_class.reltuples`: −1 when never vacuumed nor analysed. */
  readonly reltuples: number;
  readonly deadRows: number;
  readonly insertedSinceVacuum: number;
  readonly modifiedSinceAnalyze: number;
  /** age(relfrozenxid), in transactions. */
  readonly xidAge: number;
}

export interface MaintenanceAction {
  readonly table: string;
  readonly vacuum: boolean;
  readonly analyze: boolean;
  /** Why, in autovacuum's terms: `dead rows 251 > 250`, `inserted …`, `xid age …`, `changed …`. */
  readonly reasons: readonly string[];
}

/** Autovacuum's decision for each table (pure: the rules above, boundaries excluded as PostgreSQL does). */
export function maintenanceNeeds(tables: readonly TableState[]): MaintenanceAction[] {
  const out: MaintenanceAction[] = [];
  for (const t of tables) {
    const rows = Math.max(0, t.reltuples);
    const reasons: string[] = [];
    let vacuum = false;
    let analyze = false;
    if (t.xidAge > AUTOVACUUM.freezeMaxAge) {
      vacuum = true;
      reasons.push(`xid age ${t.xidAge} > ${AUTOVACUUM.freezeMaxAge}`);
    }
    if (!t.catalog) {
      const dead = AUTOVACUUM.vacuumThreshold + AUTOVACUUM.vacuumScaleFactor * rows;
      if (t.deadRows > dead) {
        vacuum = true;
        reasons.push(`dead rows ${t.deadRows} > ${dead}`);
      }
      const inserted = AUTOVACUUM.insertThreshold + AUTOVACUUM.insertScaleFactor * rows;
      if (t.insertedSinceVacuum > inserted) {
        vacuum = true;
        reasons.push(`inserted ${t.insertedSinceVacuum} > ${inserted}`);
      }
      const changed = AUTOVACUUM.analyzeThreshold + AUTOVACUUM.analyzeScaleFactor * rows;
      if (t.modifiedSinceAnalyze > changed) {
        analyze = true;
        reasons.push(`changed ${t.modifiedSinceAnalyze} > ${changed}`);
      }
    }
    if (vacuum || analyze) out.push({ table: t.table, vacuum, analyze, reasons });
  }
  return out;
}

/** Every table and materialized view of the database with its statistics (temporary tables and TOAST aside: VACUUM takes a table's TOAST with it). */
export async function tableStates(database: Database): Promise<TableState[]> {
  // The pg_stat_get_* functions rather than the pg_stat_all_tables view, which computes some
  // twenty counters for every relation: this runs every day, and every simulated day of a scenario.
  const result = await database.db.execute(sql`
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS "table",
      n.nspname IN ('pg_catalog', 'information_schema') AS catalog,
      c.reltuples::float8 AS reltuples,
      pg_stat_get_dead_tuples(c.oid)::float8 AS dead,
      pg_stat_get_ins_since_vacuum(c.oid)::float8 AS inserted,
      pg_stat_get_mod_since_analyze(c.oid)::float8 AS modified,
      age(c.relfrozenxid)::float8 AS xid_age
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
    ORDER BY 1`);
  // float8 columns: numbers from both drivers.
  type Row = { table: string; catalog: boolean; reltuples: number; dead: number; inserted: number; modified: number; xid_age: number };
  return (result as { rows: Row[] }).rows.map((r) => ({
    table: r.table,
    catalog: r.catalog,
    reltuples: r.reltuples,
    deadRows: r.dead,
    insertedSinceVacuum: r.inserted,
    modifiedSinceAnalyze: r.modified,
    xidAge: r.xid_age,
  }));
}

/**
 * Vacuums and analyses what `maintenanceNeeds` asks for, one table at a time, on the embedded
 * database; returns what it did (nothing on a PostgreSQL server: `skipped`).
 */
export async function maintainEmbeddedDatabase(database: Database): Promise<{ skipped: boolean; actions: MaintenanceAction[] }> {
  if (database.kind !== 'pglite') return { skipped: true, actions: [] };
  const actions = maintenanceNeeds(await tableStates(database));
  for (const a of actions) {
    const statement = a.vacuum ? `VACUUM${a.analyze ? ' (ANALYZE)' : ''} ${a.table}` : `ANALYZE ${a.table}`;
    await database.db.execute(sql.raw(statement));
  }
  return { skipped: false, actions };
}

export interface EmbeddedMaintenance {
  /** Stops the timer and waits for a pass under way. */
  stop(): Promise<void>;
}

/**
 * Runs `maintainEmbeddedDatabase` every `intervalMs` (default one minute) on the embedded
 * database, one pass at a time; a pass that fails is reported to `onError` and the next one
 * is tried at the next tick. A PostgreSQL server gets no timer at all.
 */
export function startEmbeddedMaintenance(
  database: Database,
  o: { intervalMs?: number; onPass?: (actions: MaintenanceAction[], ms: number) => void; onError?: (e: unknown) => void } = {},
): EmbeddedMaintenance {
  if (database.kind !== 'pglite') return { stop: () => Promise.resolve() };
  let running: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    const started = performance.now();
    try {
      const { actions } = await maintainEmbeddedDatabase(database);
      o.onPass?.(actions, performance.now() - started);
    } catch (e) {
      o.onError?.(e);
    }
  };
  const timer = setInterval(() => {
    running ??= pass().finally(() => (running = undefined));
  }, o.intervalMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
