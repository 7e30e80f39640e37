/**
 * Billing benchmark (issue #5): N clients × U users with a signed, installed contract and M
 * outbound CDRs spread over one month; measures rating (CDRs/s, §8.3 with packs) and the
 * billing run (§8.1) with the PDF and the Peppol UBL of every invoice, and the peak RSS.
 *
 *   npm run bench:billing                                  # defaults: 50 clients × 20 users, 50 000 CDRs
 *   BENCH_CLIENTS=10000 BENCH_CDRS=10000000 npm run bench:billing   # the full size (hours today, see README)
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/e2p_billing npm run bench:billing
 *
 * PGlite: in memory (BENCH_PGLITE_DIR for a directory). PostgreSQL: the database named is
 * emptied (schemas public and drizzle dropped) and migrated first.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config.ts';
import type { AppContext } from '../src/context.ts';
import { openDatabase } from '../src/db/client.ts';
import { SimulatedClock } from '../src/kernel/clock.ts';
import { enterpriseCheckDigits } from '../src/kernel/enterprise-number.ts';
import { localDate } from '../src/kernel/time.ts';
import { createLogger } from '../src/logger.ts';
import { invoicePdf, invoiceUbl, runBilling } from '../src/modules/billing/index.ts';
import '../src/modules/payments/index.ts';
import { createProduct } from '../src/modules/catalog/create-product.ts';
import { createTariffZone } from '../src/modules/catalog/create-tariff-zone.ts';
import { clientsWithLiveContract } from '../src/modules/customers/contract-store.ts';
import { completeInstallation } from '../src/modules/customers/complete-installation.ts';
import { createClient } from '../src/modules/customers/create-client.ts';
import { createContract } from '../src/modules/customers/create-contract.ts';
import { signContract } from '../src/modules/customers/sign-contract.ts';
import { createUsers } from '../src/modules/provisioning/create-users.ts';
import { rateClientMonth } from '../src/modules/rating/rate-client-month.ts';
import { cdrs } from '../src/telephony/cdr-schema.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const USERS = Number(process.env.BENCH_USERS ?? 20);
const CDRS = Number(process.env.BENCH_CDRS ?? 50_000);
const url = process.env.BENCH_DATABASE_URL;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

if (url) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS drizzle CASCADE; CREATE SCHEMA public;');
  await admin.end();
}
const database = await openDatabase(url ? { url } : { dataDir: process.env.BENCH_PGLITE_DIR ?? 'memory://' });
await database.migrate();
const clock = new SimulatedClock('2026-12-01T09:00:00+01:00');
const ctx: AppContext = { config: loadConfig({ E2P_LOG_LEVEL: 'silent' }), database, db: database.db, clock, log: createLogger('silent'), metrics: new Registry() };
process.stdout.write(`billing benchmark: ${CLIENTS} clients × ${USERS} users, ${CDRS} CDRs in December 2026, database ${database.kind}${url ? '' : ' (in memory)'}\n`);

// Catalogue: per-user subscription, a pack of 200 minutes for Belgian fixed, tariffs.
let t = performance.now();
await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
await createProduct(ctx, { actor: 'system', code: 'PACK-BE', kind: 'pack', unit: 'fixed', priceCents: 900, packMinutes: 200, packZones: ['BE-FIXED'] });
await createTariffZone(ctx, { actor: 'system', zone: 'BE-FIXED', prefixes: ['+32'], perMinuteMicros: 25_000 });
await createTariffZone(ctx, { actor: 'system', zone: 'BE-MOBILE', prefixes: ['+3246', '+3247', '+3248', '+3249'], perMinuteMicros: 85_000 });
await createTariffZone(ctx, { actor: 'system', zone: 'FR', prefixes: ['+33'], perMinuteMicros: 40_000 });
/** A valid, unique Belgian enterprise number per client (§1 check digits). */
const enterpriseNumberOf = (i: number): string => {
  const first = `04${String(i).padStart(6, '0')}`;
  return first + enterpriseCheckDigits(first);
};
const clientIds: string[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const c = await createClient(ctx, { principal: 'system', name: `Bench ${i}`, enterpriseNumber: enterpriseNumberOf(i) });
  clientIds.push(c.id);
  const draft = await createContract(ctx, { actor: 'system', clientId: c.id, lines: [{ product: 'USER', quantity: USERS }, { product: 'PACK-BE', quantity: 1 }] });
  await signContract(ctx, { actor: 'system', clientId: c.id, contractId: draft.id });
  await completeInstallation(ctx, { actor: 'system', clientId: c.id });
  await createUsers(ctx, { actor: 'system', clientId: c.id, users: Array.from({ length: USERS }, (_, u) => ({ extension: String(101 + u) })) });
}
process.stdout.write(`setup: ${CLIENTS} clients, ${CLIENTS * USERS} users in ${secs(performance.now() - t)}\n`);

// CDRs: December 1–27, uniformly, destinations fixed / mobile / France, 5–600 s answered.
t = performance.now();
const monthStart = Date.parse('2026-12-01T00:00:00+01:00');
const span = Date.parse('2026-12-27T23:00:00+01:00') - monthStart;
const destinations = ['+3222223344', '+32470123456', '+33187650000', '+3243210000'];
const BATCH = 2000;
for (let done = 0; done < CDRS; done += BATCH) {
  const rows = [];
  for (let k = done; k < Math.min(CDRS, done + BATCH); k++) {
    const startedAt = new Date(monthStart + Math.floor((k * 7919) % 1_000_003 / 1_000_003 * span));
    const dest = destinations[k % destinations.length]!;
    rows.push({
      id: randomUUID(),
      clientId: clientIds[k % CLIENTS]!,
      userId: null,
      callId: null,
      direction: 'outbound' as const,
      fromExtension: String(101 + (k % USERS)),
      dialled: dest,
      destination: dest,
      allowed: true,
      sipStatus: 200,
      startedAt,
      answeredAt: startedAt,
      endedAt: new Date(startedAt.getTime() + (5 + (k % 596)) * 1000),
      billableSeconds: 5 + (k % 596),
    });
  }
  await ctx.db.insert(cdrs).values(rows);
}
process.stdout.write(`CDRs written: ${CDRS} in ${secs(performance.now() - t)}\n`);

// Rating: every client-month (§8.3), as the run's traffic collection does for unrated calls.
t = performance.now();
let rated = 0;
for (const id of clientIds) rated += await rateClientMonth(ctx.db, id, '2026-12-01', new Date('2026-12-28T00:00:00+01:00'));
const ratingMs = performance.now() - t;
process.stdout.write(`rating: ${rated} CDRs in ${secs(ratingMs)} = ${Math.round(rated / (ratingMs / 1000))} CDRs/s\n`);

// The run of 28 December 00:00, then the documents of every invoice.
const at = new Date('2026-12-28T00:00:00+01:00');
t = performance.now();
const ids = await runBilling({ db: ctx.db, at });
const runMs = performance.now() - t;
t = performance.now();
let pdfBytes = 0;
let ublBytes = 0;
for (const id of ids) {
  pdfBytes += (await invoicePdf(ctx.db, id)).body.length;
  ublBytes += (await invoiceUbl(ctx.db, id)).body.length;
}
const docsMs = performance.now() - t;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
process.stdout.write(
  `billing run ${localDate(at)}: ${ids.length} invoices in ${secs(runMs)} (${(runMs / Math.max(1, ids.length)).toFixed(0)} ms/client); ` +
    `PDF + UBL: ${secs(docsMs)} (${(docsMs / Math.max(1, ids.length)).toFixed(0)} ms/invoice, ${mib(pdfBytes)} PDF, ${mib(ublBytes)} UBL); total ${secs(runMs + docsMs)}\n`,
);
process.stdout.write(`live clients ${(await clientsWithLiveContract(ctx.db)).length}; peak RSS ${mib(peakRss)}\n`);
await database.close();
