/**
 * Operator commands on the server's own database (clients, contracts, users, numbers).
 * They call the same service functions as the API, acting as `system` (audited as such):
 * whoever runs them has the server's shell, hence every right.
 */
import type { Command } from 'commander';
import { createPlatform } from '../app.ts';
import { loadConfig } from '../config.ts';
import type { AppContext } from '../context.ts';
import { parseEuros } from '../kernel/money.ts';
import { validationError, notFound } from '../kernel/errors.ts';
import { createProduct, PRODUCT_KINDS, PRODUCT_UNITS } from '../modules/catalog/index.ts';
import {
  completeInstallation,
  createClient,
  createContract,
  listClients,
  noticeNonRenewal,
  signContract,
  terminateContract,
} from '../modules/customers/index.ts';
import { TERMINATION_GROUNDS, type TerminationGround } from '../modules/customers/term-dates.ts';
import {
  assignNumber,
  createUsers,
  deleteUsers,
  findUserByExtension,
  importNumbers,
  releaseNumber,
  reserveNumber,
} from '../modules/provisioning/index.ts';

/** Opens the platform on the configured database, runs `fn`, prints its result as JSON, closes. */
export async function withPlatform(fn: (ctx: AppContext) => Promise<unknown>): Promise<void> {
  const platform = await createPlatform(loadConfig());
  try {
    const result = await fn(platform.ctx);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await platform.close();
  }
}

/** `CODE:QTY[:PRICE]`, price in euros (an agreed price replacing the catalogue's). */
function parseLine(text: string): { product: string; quantity: number; priceCents?: number } {
  const [product, qty, price] = text.split(':');
  if (!product || !qty || !/^\d+$/.test(qty)) throw validationError('--line', `expected CODE:QUANTITY[:PRICE], got "${text}"`);
  return { product, quantity: Number(qty), ...(price ? { priceCents: parseEuros(price) } : {}) };
}

async function userId(ctx: AppContext, clientId: string, extension: string): Promise<string> {
  const user = await findUserByExtension(ctx.db, clientId, extension);
  if (!user) throw notFound('user', extension);
  return user.userId;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerOperations(program: Command): void {
  const catalog = program.command('catalog').description('the catalogue (operator)');
  catalog
    .command('product-add')
    .description('add a product with its first price')
    .requiredOption('--code <code>', 'product code, e.g. USER')
    .requiredOption('--kind <kind>', PRODUCT_KINDS.join(', '))
    .option('--unit <unit>', `recurring unit: ${PRODUCT_UNITS.join(', ')}`)
    .requiredOption('--price <euros>', 'monthly price (recurring, pack) or one-off price, excl. VAT')
    .option('--name <name>', 'display name')
    .action((o: { code: string; kind: string; unit?: string; price: string; name?: string }) =>
      withPlatform((ctx) => {
        const kind = PRODUCT_KINDS.find((k) => k === o.kind);
        if (!kind) throw validationError('--kind', `must be one of ${PRODUCT_KINDS.join(', ')}`);
        const unit = o.unit === undefined ? null : PRODUCT_UNITS.find((u) => u === o.unit);
        if (unit === undefined) throw validationError('--unit', `must be one of ${PRODUCT_UNITS.join(', ')}`);
        return createProduct(ctx, { actor: 'system', code: o.code, name: o.name, kind, unit, priceCents: parseEuros(o.price) });
      }),
    );

  const client = program.command('client').description('clients (operator)');
  client
    .command('create')
    .requiredOption('--name <name>', 'trade name')
    .option('--enterprise-number <number>', 'Belgian enterprise number, e.g. BE0455.218.921')
    .option('--language <fr|nl|en>', 'language of documents and notices', 'fr')
    .option('--email <email>', 'billing e-mail')
    .action((o: { name: string; enterpriseNumber?: string; language: string; email?: string }) =>
      withPlatform((ctx) => {
        if (!['fr', 'nl', 'en'].includes(o.language)) throw validationError('--language', 'must be fr, nl or en');
        return createClient(ctx, {
          principal: 'system',
          name: o.name,
          enterpriseNumber: o.enterpriseNumber,
          language: o.language as 'fr' | 'nl' | 'en',
          billingEmail: o.email,
        });
      }),
    );
  client
    .command('list')
    .option('--q <text>', 'search the name or the enterprise number')
    .action((o: { q?: string }) => withPlatform(async (ctx) => (await listClients(ctx.db, { principal: 'system', q: o.q, limit: 200 })).items));

  const contract = program.command('contract').description("a client's contract (operator)");
  contract
    .command('sign')
    .description('record a signed contract (§2.2) with its lines')
    .requiredOption('--client <id>', 'client id')
    .option('--line <CODE:QTY[:PRICE]>', 'a contract line (repeat)', collect, [])
    .option('--minimum-months <n>', 'minimum term in months', '60')
    .option('--enable <options>', 'premium,international', '')
    .action((o: { client: string; line: string[]; minimumMonths: string; enable: string }) =>
      withPlatform(async (ctx) => {
        if (!/^\d+$/.test(o.minimumMonths)) throw validationError('--minimum-months', 'must be a whole number of months');
        const draft = await createContract(ctx, {
          actor: 'system',
          clientId: o.client,
          minimumMonths: Number(o.minimumMonths),
          lines: o.line.map(parseLine),
          enable: o.enable ? o.enable.split(',') : [],
        });
        return signContract(ctx, { actor: 'system', clientId: o.client, contractId: draft.id });
      }),
    );
  contract
    .command('install')
    .description('installation complete: the service starts today (one-offs invoiced at once)')
    .requiredOption('--client <id>', 'client id')
    .action((o: { client: string }) => withPlatform((ctx) => completeInstallation(ctx, { actor: 'system', clientId: o.client })));
  contract
    .command('non-renewal')
    .description('record a non-renewal notice (§11.4)')
    .requiredOption('--client <id>', 'client id')
    .action((o: { client: string }) => withPlatform((ctx) => noticeNonRenewal(ctx, { actor: 'system', clientId: o.client })));
  contract
    .command('terminate')
    .requiredOption('--client <id>', 'client id')
    .requiredOption('--by <client|operator>', 'who terminates')
    .requiredOption('--ground <ground>', 'early, notice, 12.1, 12.2a, 12.3a, 15.2 or 18')
    .option('--effective <YYYY-MM-DD>', 'effective date (default: today)')
    .action((o: { client: string; by: string; ground: string; effective?: string }) =>
      withPlatform((ctx) => {
        if (o.by !== 'client' && o.by !== 'operator') throw validationError('--by', 'must be client or operator');
        const ground = TERMINATION_GROUNDS.find((g): g is TerminationGround => g === o.ground);
        if (!ground) throw validationError('--ground', `must be one of ${TERMINATION_GROUNDS.join(', ')}`);
        return terminateContract(ctx, { actor: 'system', clientId: o.client, by: o.by, ground, effective: o.effective });
      }),
    );

  const user = program.command('user').description("a client's users and their SIP credentials (operator)");
  user
    .command('create')
    .description('create users; prints their SIP credentials once')
    .requiredOption('--client <id>', 'client id')
    .requiredOption('--extension <ext>', 'extension (the first one with --count)')
    .option('--count <n>', 'how many, on consecutive extensions', '1')
    .action((o: { client: string; extension: string; count: string }) =>
      withPlatform((ctx) => {
        if (!/^\d+$/.test(o.count) || Number(o.count) < 1) throw validationError('--count', 'must be a positive whole number');
        if (!/^\d+$/.test(o.extension)) throw validationError('--extension', 'must be digits');
        const first = Number(o.extension);
        const users = Array.from({ length: Number(o.count) }, (_, i) => ({ extension: String(first + i).padStart(o.extension.length, '0') }));
        return createUsers(ctx, { actor: 'system', clientId: o.client, users });
      }),
    );
  user
    .command('delete')
    .requiredOption('--client <id>', 'client id')
    .requiredOption('--extension <ext>', 'extension')
    .option('--override <reason>', 'go below the §8.5 quarterly floor, with this reason (audited)')
    .action((o: { client: string; extension: string; override?: string }) =>
      withPlatform(async (ctx) =>
        deleteUsers(ctx, { actor: 'system', clientId: o.client, userIds: [await userId(ctx, o.client, o.extension)], overrideReason: o.override }),
      ),
    );

  const number = program.command('number').description('the number inventory (operator)');
  number
    .command('import')
    .option('--from <e164>', 'first number of a range')
    .option('--to <e164>', 'last number of a range')
    .option('--number <e164>', 'a single number')
    .option('--type <national|international>', 'number type', 'national')
    .action((o: { from?: string; to?: string; number?: string; type: string }) =>
      withPlatform((ctx) => {
        if (o.type !== 'national' && o.type !== 'international') throw validationError('--type', 'must be national or international');
        const type = o.type;
        if (o.number) return importNumbers(ctx, { actor: 'system', numbers: [{ number: o.number, type }] });
        if (!o.from || !o.to) throw validationError('--from', 'give --from and --to, or --number');
        return importNumbers(ctx, { actor: 'system', ranges: [{ from: o.from, to: o.to, type }] });
      }),
    );
  for (const [name, description] of [
    ['reserve', 'reserve a number for a client (30 days, §3.6)'],
    ['assign', 'assign a number to a user (--user) or as the main number (--main)'],
    ['release', 'release a number (90 days of quarantine; §8.6 for international numbers)'],
  ] as const) {
    number
      .command(name)
      .description(description)
      .requiredOption('--client <id>', 'client id')
      .requiredOption('--number <e164>', 'the number')
      .option('--user <extension>', 'the user (assign)')
      .option('--main', "the client's main number (assign)")
      .action((o: { client: string; number: string; user?: string; main?: boolean }) =>
        withPlatform(async (ctx) => {
          const base = { actor: 'system' as const, clientId: o.client, number: o.number };
          if (name === 'reserve') return reserveNumber(ctx, base);
          if (name === 'release') return releaseNumber(ctx, base);
          return assignNumber(ctx, { ...base, userId: o.user ? await userId(ctx, o.client, o.user) : null, main: o.main === true });
        }),
      );
  }
}
