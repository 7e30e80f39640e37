/**
 * The database test matrix: every database test runs on PGlite, and on the
 * PostgreSQL server named by TEST_DATABASE_URL when it is set (`.ci/run` sets it).
 * Each test database is fresh: an in-memory PGlite, or a new database on the server.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { freshMemoryDatabase } from '../../src/db/template.ts';

export type DbKind = 'pglite' | 'postgres';

export const dbKinds: DbKind[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

interface Created {
  database: Database;
  url: string | undefined;
  drop: () => Promise<void>;
}

/** An empty database of its own on the TEST_DATABASE_URL server (for tests that hand its URL to child processes). */
export async function createServerDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL!;
  const name = `e2p_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A fresh, empty database of the given kind (not migrated). */
export async function createTestDatabase(kind: DbKind, opts: { migrationsFolder?: string } = {}): Promise<Created> {
  if (kind === 'pglite') {
    const database = await openDatabase({ dataDir: 'memory://', ...opts });
    return { database, url: undefined, drop: () => database.close() };
  }
  const server = await createServerDatabase();
  const database = await openDatabase({ url: server.url, ...opts });
  return {
    database,
    url: server.url,
    async drop() {
      await database.close();
      await server.drop();
    },
  };
}

/** A fresh migrated database. */
export async function migratedTestDatabase(kind: DbKind): Promise<Created> {
  if (kind === 'pglite') {
    const database = await freshMemoryDatabase();
    return { database, url: undefined, drop: () => database.close() };
  }
  const created = await createTestDatabase(kind);
  await created.database.migrate();
  return created;
}

/**
 * A fresh migrated database for the enclosing `describe`: made before its tests (handed to
 * `use`), dropped after them.
 */
export function useMigratedDatabase(kind: DbKind, use: (database: Database) => void): void {
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const created = await migratedTestDatabase(kind);
    drop = created.drop;
    use(created.database);
  });
  afterAll(async () => drop?.());
}

/** The rows of a `db.execute` result, typed (both drivers return `{ rows }`). */
export const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

/** Runs `fn` once per database kind, inside a `describe` named after it. */
export function describeEachDb(name: string, fn: (kind: DbKind) => void): void {
  for (const kind of dbKinds) {
    describe(`${name} [${kind}]`, () => {
      fn(kind);
    });
  }
}
