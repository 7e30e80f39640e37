/**
 * The bench platform's client and users (bench/sip/server.ts for `npm run bench:sip`,
 * bench/sip-call-cpu.ts in memory): one client (product, signed contract, installation
 * completed, through the module functions) and `users` users `bench0…` with one password
 * (rows written straight into `provisioned_users`, 1 000 per INSERT: createUsers would take
 * hours for 100 000); with `numbers` (BENCH_NUMBERS), the first that many users each get a
 * national number of their own, assigned (`+3220000000` + i; the first is the client's main
 * number) — a client whose users all have a DID, as a real one does. Returns the seconds the
 * users took. `emptyBenchDatabase` empties a
 * PostgreSQL bench database first.
 */
import pg from 'pg';
import { type AppContext } from '../../src/context.ts';
import { newId } from '../../src/kernel/ids.ts';
import { createProduct } from '../../src/modules/catalog/create-product.ts';
import { completeInstallation } from '../../src/modules/customers/complete-installation.ts';
import { createClient } from '../../src/modules/customers/create-client.ts';
import { createContract } from '../../src/modules/customers/create-contract.ts';
import { signContract } from '../../src/modules/customers/sign-contract.ts';
import { phoneNumbers, provisionedUsers } from '../../src/modules/provisioning/schema.ts';
import { ha1 } from '../../src/sip/index.ts';

export async function provisionBenchUsers(ctx: AppContext, o: { users: number; password: string; realm: string; numbers?: number }): Promise<number> {
  await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
  const clientId = (await createClient(ctx, { principal: 'system', name: 'Bench SRL' })).id;
  const draft = await createContract(ctx, { actor: 'system', clientId, lines: [{ product: 'USER', quantity: 10 }] });
  await signContract(ctx, { actor: 'system', clientId, contractId: draft.id });
  await completeInstallation(ctx, { actor: 'system', clientId });
  const now = new Date();
  const started = Date.now();
  for (let from = 0; from < o.users; from += 1000) {
    const rows = [];
    const numbers = [];
    for (let i = from; i < Math.min(o.users, from + 1000); i++) {
      const username = `bench${i}`;
      const id = newId();
      if (i < (o.numbers ?? 0)) {
        numbers.push({ number: `+32${20_000_000 + i}`, type: 'national' as const, state: 'assigned' as const, clientId, userId: id, isMain: i === 0, assignedAt: now, importedAt: now });
      }
      rows.push({
        id,
        clientId,
        extension: String(100000 + i),
        sipUsername: username,
        sipRealm: o.realm,
        ha1Md5: ha1('MD5', username, o.realm, o.password),
        ha1Sha256: ha1('SHA-256', username, o.realm, o.password),
        credentialsSetAt: now,
        createdAt: now,
      });
    }
    await ctx.db.insert(provisionedUsers).values(rows);
    if (numbers.length > 0) await ctx.db.insert(phoneNumbers).values(numbers);
  }
  return (Date.now() - started) / 1000;
}

/**
 * Each run starts from an empty database (the users bench0… are created again): only a
 * database whose name says it is the bench's own (e.g. e2p_bench) is emptied.
 */
export async function emptyBenchDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/bench/i.test(name)) throw new Error(`BENCH_DATABASE_URL must name a bench database (e.g. e2p_bench), got "${name}"`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('drop schema if exists public cascade; drop schema if exists drizzle cascade; create schema public');
  await client.end();
}
