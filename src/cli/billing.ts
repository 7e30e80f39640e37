/**
 * Billing commands (§8) on the server's database, as `system`:
 *   easy2phone billing run [--at INSTANT] [--dry-run]
 *   easy2phone invoice show NUMBER [--pdf FILE] [--ubl FILE]
 * A real run is the same crash-safe run as the scheduler's (a client already invoiced for
 * the run is skipped); `--dry-run` issues nothing (the preview rolls every client back).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Db } from '../db/client.ts';
import { notFound, validationError } from '../kernel/errors.ts';
import { withPlatform } from './operations.ts';
import { addMonths, formatLocalInstant, localDate, parseInstant, startOfLocalDay } from '../kernel/time.ts';
import { billingDayOf, checkPeppolUbl, sellerIdentity, setSellerIdentity, getInvoice, invoiceIdByNumber, invoicePdf, invoiceUbl, listInvoices, previewRun, runBilling, runConcurrencyFor } from '../modules/billing/index.ts';


/** The latest run instant ≤ now: 00:00 local on the billing day of this month, else of last month (§8.1). */
export async function currentRunInstant(db: Db, now: Date): Promise<Date> {
  const day = String(await billingDayOf(db)).padStart(2, '0');
  const date = `${localDate(now).slice(0, 7)}-${day}`;
  const at = startOfLocalDay(date);
  return at <= now ? at : startOfLocalDay(addMonths(date, -1));
}

function instantOption(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  try {
    return parseInstant(text);
  } catch {
    throw validationError('--at', `an ISO 8601 instant with an offset, e.g. 2027-01-28T00:00:00+01:00; got "${text}"`);
  }
}

export function registerBilling(program: Command): void {
  const billing = program.command('billing').description('the billing run (§8.1)');
  billing
    .command('run')
    .description('run the billing: invoice every client with a started service (default: the current period, the latest billing day at 00:00)')
    .option('--at <instant>', 'run instant, ISO 8601 with offset (default: the latest billing day 00:00 local, not in the future)')
    .option('--dry-run', 'show what would be invoiced; issue nothing')
    .action((o: { at?: string; dryRun?: boolean }) =>
      withPlatform(async (ctx) => {
        const now = ctx.clock.now();
        const at = instantOption(o.at) ?? (await currentRunInstant(ctx.db, now));
        if (o.dryRun) return { dryRun: true, ...(await previewRun(ctx.db, at)), at: formatLocalInstant(at) };
        if (at > now) throw validationError('--at', 'a billing run cannot be in the future (use --dry-run to preview it)');
        const ids = await runBilling({ db: ctx.db, at, concurrency: runConcurrencyFor(ctx.database.kind) });
        const issued = (await listInvoices(ctx.db)).filter((i) => ids.includes(i.id));
        return { dryRun: false, at: formatLocalInstant(at), invoices: issued.map((i) => ({ number: i.number, clientId: i.clientId, totalInclVatCents: i.totalInclVatCents })) };
      }),
    );

  billing
    .command('seller')
    .description('show, or change with options, the seller identity printed on invoices and in the UBL (setting billing.seller)')
    .option('--name <name>', 'legal name')
    .option('--enterprise-number <number>', 'Belgian enterprise number (BE0xxx.xxx.xxx); the VAT number is BE + it')
    .option('--street <street>')
    .option('--postal-code <code>')
    .option('--city <city>')
    .option('--country <cc>', 'ISO 3166-1 alpha-2')
    .option('--iban <iban>')
    .option('--bic <bic>')
    .option('--email <email>')
    .option('--register <text>', 'register of legal entities, e.g. "RPM Liège"')
    .action((o: Record<string, string | undefined>) =>
      withPlatform(async (ctx) => {
        const current = await sellerIdentity(ctx.db);
        if (Object.values(o).every((v) => v === undefined)) return current;
        const next = {
          ...current,
          name: o.name ?? current.name,
          enterpriseNumber: o.enterpriseNumber ?? current.enterpriseNumber,
          address: { street: o.street ?? current.address.street, postalCode: o.postalCode ?? current.address.postalCode, city: o.city ?? current.address.city, country: o.country ?? current.address.country },
          iban: o.iban ?? current.iban,
          bic: o.bic ?? current.bic,
          email: o.email ?? current.email,
          register: o.register ?? current.register,
        };
        try {
          await setSellerIdentity(ctx.db, next, ctx.clock.now());
        } catch (e) {
          throw validationError('--enterprise-number', (e as Error).message);
        }
        return sellerIdentity(ctx.db);
      }),
    );

  const invoice = program.command('invoice').description('invoices and credit notes (§8)');
  invoice
    .command('show')
    .description('print an invoice or credit note; optionally write its PDF and its Peppol UBL')
    .argument('<number>', 'YYYY-NNNNNN or NCYYYY-NNNNNN')
    .option('--pdf <file>', 'write the PDF there')
    .option('--ubl <file>', 'write the Peppol BIS 3 UBL XML there')
    .action((number: string, o: { pdf?: string; ubl?: string }) =>
      withPlatform(async (ctx) => {
        const id = await invoiceIdByNumber(ctx.db, number);
        if (id === null) throw notFound('invoice', number);
        const view: Record<string, unknown> = { ...(await getInvoice(ctx.db, 'system', id)) };
        if (o.pdf) {
          const pdf = await invoicePdf(ctx.db, id);
          writeFileSync(o.pdf, pdf.body);
          view.pdf = o.pdf;
        }
        if (o.ubl) {
          const ubl = await invoiceUbl(ctx.db, id);
          writeFileSync(o.ubl, ubl.body);
          view.ubl = o.ubl;
          view.ublCheck = checkPeppolUbl(ubl.body);
        }
        return view;
      }),
    );
}
