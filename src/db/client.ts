import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.ts';

export type Schema = typeof schema;
/** One type for both drivers: the code never knows whether it runs on PGlite or a server. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle has the same query API as the database. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** What a service function accepts: the database or a transaction already open. */
export type DbOrTx = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Applies the pending migrations, all in one transaction (a failure changes nothing). */
  migrate(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PGlite only: a snapshot of the whole cluster, to start other instances from. */
  dump?: () => Promise<Blob>;
  /**
   * LISTEN on a channel: `onNotify(payload)` for every NOTIFY committed by any process;
   * `onReconnect()` after a lost connection was re-established (notifications sent in
   * between are lost: a cache must then forget everything). Returns the unsubscribe.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

export class MigrationError extends Error {
  constructor(cause: unknown) {
    const root = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
    const detail = root instanceof Error ? root.message : String(root);
    super(`database migration failed, nothing was changed: ${detail}`, { cause });
    this.name = 'MigrationError';
  }
}

/** Same lock id on every node: two processes starting together migrate one after the other. */
const MIGRATION_LOCK = 0x45325030; // "E2P0"

export interface OpenOptions {
  /** `postgres://…`: a PostgreSQL server. Otherwise PGlite. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` (the default) keeps everything in memory. */
  dataDir?: string | undefined;
  migrationsFolder?: string;
  /** PGlite only: start from this dump (`dumpDataDir`) instead of an empty cluster. */
  loadDataDir?: Blob | undefined;
}

export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  const migrationsFolder = opts.migrationsFolder ?? MIGRATIONS_FOLDER;
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: 10,
      // No JIT compilation (issue #4): our statements run in a millisecond or two, but the
      // planner's default estimates on tables without statistics put batches like the
      // registrar's past `jit_above_cost`, and each execution then spent ≈ 50 ms compiling
      // (70 ms for a 1.7 ms statement: 5 800 → 4 000 REGISTERs/s at 100 000 users). Awaited by
      // the pool before it hands the new connection out: nothing else runs on it meanwhile
      // (a query queued behind another is deprecated in pg 8 and gone in pg 9). A failure is let
      // go: a server without the setting still serves, a broken connection fails its next query.
      // pg-pool (≥ 3.14) awaits the hook's promise; @types/pg still declares it `void`.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect: (client) => client.query('SET jit = off').catch(() => undefined),
    });
    // An idle client losing its connection must not crash the process.
    pool.on('error', () => undefined);
    const db = drizzlePg(pool, { schema, casing: 'snake_case' }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      async migrate() {
        const client = await pool.connect();
        try {
          await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
          try {
            await migratePg(drizzlePg(client, { schema, casing: 'snake_case' }), { migrationsFolder });
          } finally {
            await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
          }
        } catch (e) {
          throw new MigrationError(e);
        } finally {
          client.release();
        }
      },
      async ping() {
        await pool.query('SELECT 1');
      },
      listen: (channel, onNotify, onReconnect) => listenPg(opts.url as string, channel, onNotify, onReconnect),
      async close() {
        await pool.end();
      },
    };
  }
  // Loaded only here: a node on a PostgreSQL server never holds PGlite (≈ 48 MB of RSS once imported).
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const dataDir = opts.dataDir ?? 'memory://';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir, ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}) });
  letTheEventLoopIn(client);
  const db = drizzlePglite(client, { schema, casing: 'snake_case' }) as unknown as Db;
  let closed = false;
  return {
    db,
    kind: 'pglite',
    async migrate() {
      try {
        await migratePglite(drizzlePglite(client, { schema, casing: 'snake_case' }), { migrationsFolder });
      } catch (e) {
        throw new MigrationError(e);
      }
    },
    async ping() {
      if (closed) throw new Error('database closed');
      await db.execute(sql`SELECT 1`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
    dump: () => client.dumpDataDir('gzip'),
    async listen(channel, onNotify) {
      // One process, one backend: nothing can be lost, no reconnection.
      const unsubscribe = await client.listen(channel, onNotify);
      return () => (closed ? Promise.resolve() : unsubscribe());
    },
  };
}

/**
 * A dedicated connection (not from the pool: a pooled client would be handed to
 * queries) that LISTENs, and reconnects after 1 s, 2 s … 30 s when the server goes away.
 */
async function listenPg(
  url: string,
  channel: string,
  onNotify: (payload: string) => void,
  onReconnect?: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (delayMs: number, reconnecting: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => {
      if (n.channel === channel) onNotify(n.payload ?? '');
    });
    c.on('error', () => undefined);
    c.on('end', () => {
      if (stopped || client !== c) return;
      client = null;
      schedule(Math.min(delayMs * 2, 30_000));
    });
    await c.connect();
    await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    client = c;
    if (reconnecting) onReconnect?.();
  };
  const schedule = (delayMs: number): void => {
    retry = setTimeout(() => {
      connect(delayMs, true).catch(() => {
        if (!stopped) schedule(Math.min(delayMs * 2, 30_000));
      });
    }, delayMs);
    retry.unref();
  };
  await connect(1_000, false);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const c = client;
    client = null;
    await c?.end().catch(() => undefined);
  };
}

/** Longest stretch of back-to-back PGlite statements before timers and I/O get a turn. */
export const PGLITE_YIELD_MS = 10;

/**
 * PGlite runs in this thread and its statements resolve in microtasks only: statements and
 * transactions issued back to back (a billing run of 10 000 clients: minutes) never let a
 * timer, a socket or a worker's message in — SIP, HTTP and the document workers' replies
 * waited for the whole run. Each top-level query and transaction therefore first yields to
 * the event loop (setImmediate) once PGLITE_YIELD_MS went by since the last time it did.
 * Statements inside a transaction are not delayed (the transaction holds the database).
 */
function letTheEventLoopIn(client: PGlite): void {
  let lastTurn = performance.now();
  const turn = async (): Promise<void> => {
    if (performance.now() - lastTurn < PGLITE_YIELD_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    lastTurn = performance.now();
  };
  const query = client.query.bind(client);
  const transaction = client.transaction.bind(client);
  client.query = async (...args: Parameters<PGlite['query']>) => {
    await turn();
    return query(...args);
  };
  client.transaction = async <T>(callback: (tx: Transaction) => Promise<T>): Promise<T> => {
    await turn();
    return transaction(callback);
  };
}
