import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER, openDatabase, type Database } from './client.ts';

/**
 * Fresh in-memory databases for the scenario runner and the tests. Creating a PGlite
 * cluster (initdb) and migrating it costs seconds; starting from a snapshot of a freshly
 * migrated cluster costs far less. The snapshot is kept per process and in the system's
 * temporary folder, keyed by the migrations' content, so a changed migration makes a new one.
 */
function migrationsHash(folder: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(folder).filter((f) => f.endsWith('.sql')).sort()) {
    hash.update(name).update(readFileSync(join(folder, name)));
  }
  hash.update(readFileSync(join(folder, 'meta', '_journal.json')));
  return hash.digest('hex').slice(0, 16);
}

let template: Promise<Blob> | undefined;

async function buildTemplate(): Promise<Blob> {
  const file = join(tmpdir(), `easy2phone-pglite-${migrationsHash(MIGRATIONS_FOLDER)}.tar.gz`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    await database.migrate();
    const blob = await database.dump!();
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, Buffer.from(await blob.arrayBuffer()));
    renameSync(partial, file); // atomic: a concurrent reader never sees half a file
    return blob;
  } finally {
    await database.close();
  }
}

/** A new, migrated, in-memory PGlite database. */
export async function freshMemoryDatabase(): Promise<Database> {
  template ??= buildTemplate().catch((e: unknown) => {
    template = undefined;
    throw e;
  });
  const database = await openDatabase({ dataDir: 'memory://', loadDataDir: await template });
  await database.migrate(); // a no-op on the snapshot; it checks the journal all the same
  return database;
}
