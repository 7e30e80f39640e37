/**
 * The crash test's child: runs the billing run on the database named by argv (a PGlite
 * data directory or a postgres:// URL), printing `billed <clientId> <invoiceId|->` after
 * each client commits, pausing a little so the parent can SIGKILL it midway (on PostgreSQL
 * with two clients billed at once, as the job does).
 */
import { openDatabase } from '../../src/db/client.ts';
import { runBilling, runConcurrencyFor } from '../../src/modules/billing/billing-run.ts';
import '../../src/modules/payments/index.ts';

const [target, at, pauseMs] = process.argv.slice(2);
const database = await openDatabase(target!.startsWith('postgres') ? { url: target } : { dataDir: target });
await runBilling({
  db: database.db,
  at: new Date(at!),
  // As the job does: two clients at once on PostgreSQL (the kill then lands with two transactions in flight).
  concurrency: runConcurrencyFor(database.kind),
  async afterClient(clientId, id) {
    process.stdout.write(`billed ${clientId} ${id ?? '-'}\n`);
    await new Promise((r) => setTimeout(r, Number(pauseMs ?? 0)));
  },
});
process.stdout.write('done\n');
await database.close();
