/**
 * Crash safety of the billing run (§8.1, ARCHITECTURE.md "Scaling out"): a child process
 * runs the run on a file-backed PGlite database (and on a database of its own on the
 * PostgreSQL server of TEST_DATABASE_URL when it is set),
 * is killed with SIGKILL after some clients are invoiced, and a rerun completes the run:
 * one invoice per client, numbers gap-free.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { invoices } from '../../src/modules/billing/schema.ts';
import { createProduct } from '../../src/modules/catalog/create-product.ts';
import { completeInstallation } from '../../src/modules/customers/complete-installation.ts';
import { createClient } from '../../src/modules/customers/create-client.ts';
import { createContract } from '../../src/modules/customers/create-contract.ts';
import { signContract } from '../../src/modules/customers/sign-contract.ts';
import { testContext } from '../support/context.ts';
import { createServerDatabase } from '../support/db.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const CLIENTS = 30;
const RUN_AT = '2027-01-27T23:00:00Z'; // 28 Jan 2027 00:00 Brussels

async function seed(database: Database): Promise<void> {
  await database.migrate();
  const ctx = testContext(database, '2027-01-04T09:00:00+01:00');
  await createProduct(ctx, { actor: 'system', code: 'OPT', kind: 'recurring', unit: 'fixed', priceCents: 1000 });
  for (let i = 0; i < CLIENTS; i++) {
    const client = await createClient(ctx, { principal: 'system', name: `Crash ${i}` });
    const draft = await createContract(ctx, { actor: 'system', clientId: client.id, lines: [{ product: 'OPT', quantity: 1 + (i % 3) }] });
    await signContract(ctx, { actor: 'system', clientId: client.id, contractId: draft.id });
    await completeInstallation(ctx, { actor: 'system', clientId: client.id });
  }
}

/** Runs the child (node --import tsx: one process, so SIGKILL reaches the run itself); kills it with SIGKILL once `killAfter` clients are billed (or lets it finish). */
function runChild(target: string, killAfter: number | null): Promise<{ billed: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, target, RUN_AT, killAfter === null ? '0' : '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let billed = 0;
    let killed = false;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      billed += (d.toString().match(/^billed /gm) ?? []).length;
      if (killAfter !== null && !killed && billed >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!killed && code !== 0) reject(new Error(`child exited ${code ?? signal}: ${err}`));
      else resolve({ billed, killed });
    });
  });
}

async function check(open: () => Promise<Database>): Promise<void> {
  let database = await open();
  const numbersAfter = async (): Promise<string[]> => (await database.db.select({ number: invoices.number, clientId: invoices.clientId }).from(invoices)).map((r) => r.number).sort();
  const clientsInvoiced = async (): Promise<string[]> => (await database.db.select({ clientId: invoices.clientId }).from(invoices)).map((r) => r.clientId);
  const before = await numbersAfter();
  expect(before).toEqual([]);
  await database.close();

  const first = await runChild(target, 5);
  expect(first.killed).toBe(true);
  database = await open();
  const partial = await numbersAfter();
  expect(partial.length).toBeGreaterThanOrEqual(5);
  expect(partial.length).toBeLessThan(CLIENTS);
  await database.close();

  const second = await runChild(target, null);
  expect(second.killed).toBe(false);
  database = await open();
  const numbers = await numbersAfter();
  expect(numbers).toEqual(Array.from({ length: CLIENTS }, (_, i) => `2027-${String(i + 1).padStart(6, '0')}`));
  const perClient = await clientsInvoiced();
  expect(new Set(perClient).size).toBe(CLIENTS);
  await database.close();
}

let target = '';

describe('billing run crash safety', () => {
  it('PGlite on disk: SIGKILL midway, rerun — no duplicate, no gap', { timeout: 300_000 }, async () => {
    target = join(mkdtempSync(join(tmpdir(), 'e2p-crash-')), 'pglite');
    const db = await openDatabase({ dataDir: target });
    await seed(db);
    await db.close();
    await check(() => openDatabase({ dataDir: target }));
  });

  const onPostgres = process.env.TEST_DATABASE_URL !== undefined;
  it.skipIf(!onPostgres)('PostgreSQL (TEST_DATABASE_URL): SIGKILL midway, rerun — no duplicate, no gap', { timeout: 300_000 }, async () => {
    const server = await createServerDatabase();
    onTestFinished(() => server.drop());
    target = server.url;
    const db = await openDatabase({ url: target });
    await seed(db);
    await db.close();
    await check(() => openDatabase({ url: target }));
  });

  it.skipIf(!onPostgres)('PostgreSQL: two nodes running the same run at once — each client invoiced once, numbers gap-free', { timeout: 300_000 }, async () => {
    const server = await createServerDatabase();
    onTestFinished(() => server.drop());
    target = server.url;
    let database = await openDatabase({ url: target });
    await seed(database);
    await database.close();
    const [a, b] = await Promise.all([runChild(target, null), runChild(target, null)]);
    expect(a.billed + b.billed).toBe(2 * CLIENTS);
    database = await openDatabase({ url: target });
    const rows = await database.db.select({ number: invoices.number, clientId: invoices.clientId }).from(invoices);
    expect(rows.map((r) => r.number).sort()).toEqual(Array.from({ length: CLIENTS }, (_, i) => `2027-${String(i + 1).padStart(6, '0')}`));
    expect(new Set(rows.map((r) => r.clientId)).size).toBe(CLIENTS);
    await database.close();
  });
});
