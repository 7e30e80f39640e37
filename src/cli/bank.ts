/**
 * Operator commands for money (issue #6), on the server's own database, acting as
 * `system` (audited as such), like the other operator commands:
 *
 *   easy2phone bank import FILE [--format camt053|coda] [--json]
 *   easy2phone payment unallocated
 *   easy2phone payment allocate --payment ID (--client ID | --invoice N) [--note TEXT]
 *   easy2phone service suspend --client ID --clause 9.1c|9.2 --reason TEXT
 *   easy2phone service reactivate --client ID --reason TEXT [--clause C]
 *   easy2phone guarantee register --invoice N --amount EUR [--reference TEXT]
 *   easy2phone payment ageing [--as-of YYYY-MM-DD]
 *
 * A malformed bank file is refused before anything is opened: exit status 1 with the
 * position of the fault (line and column, or the XML element path).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createPlatform } from '../app.ts';
import { loadConfig } from '../config.ts';
import type { AppContext } from '../context.ts';
import { validationError } from '../kernel/errors.ts';
import { formatEuros, parseEuros } from '../kernel/money.ts';
import { BankFileError, parseBankFile, type BankFormat } from '../modules/payments/bank/index.ts';
import { localDate } from '../kernel/time.ts';
import {
  allocatePayment,
  importBankStatement,
  receivablesAgeing,
  reactivateClient,
  registerGuarantee,
  suspendClient,
  unallocatedPayments,
  type ImportSummary,
} from '../modules/payments/index.ts';
import { CliExit } from './exit.ts';

async function withPlatform<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const platform = await createPlatform(loadConfig());
  try {
    return await fn(platform.ctx);
  } finally {
    await platform.close();
  }
}

const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** UTF-8, else ISO-8859-1 (CODA files from Belgian banks often are). */
export function readStatementFile(path: string): string {
  const bytes = readFileSync(path);
  const utf8 = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return utf8.includes('\uFFFD') ? new TextDecoder('latin1').decode(bytes) : utf8;
}

export function formatImportSummary(s: ImportSummary): string {
  const lines = [
    `${s.alreadyImported ? 'already imported' : 'imported'} ${s.format === 'coda' ? 'CODA' : 'CAMT.053'} statement ${s.statementId} (${s.date})`,
    `entries ${s.entries} (credits ${s.credits}, debits ${s.debits}), new payments ${s.new}: matched ${s.matched}, unallocated ${s.unallocated}; duplicates ${s.duplicates}; credited ${formatEuros(s.creditCents)} EUR`,
  ];
  for (const i of s.items) {
    const what = i.direction === 'debit' ? 'debit (not a payment)' : i.status === 'duplicate' ? 'duplicate' : i.clientId === null ? 'unallocated' : `${i.matchedBy ?? ''} ${i.invoices.join(', ')}`.trim();
    lines.push(`  ${i.entryId}  ${i.direction === 'debit' ? '-' : '+'}${formatEuros(i.amountCents)}  ${i.valueDate}  ${what}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerBankCommands(program: Command): void {
  const bank = program.command('bank').description('bank statements (operator)');
  bank
    .command('import')
    .description('import a CAMT.053 (XML) or CODA statement file: payments matched, the rest unallocated; idempotent')
    .argument('<file>', 'the statement file')
    .option('--format <format>', 'camt053 or coda (default: detected)')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, o: { format?: string; json?: boolean }) => {
      if (o.format !== undefined && o.format !== 'camt053' && o.format !== 'coda') throw validationError('--format', 'must be camt053 or coda');
      let text: string;
      try {
        text = readStatementFile(file);
      } catch (e) {
        throw new CliExit(1, `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const format: BankFormat | undefined = o.format;
      const parsed = parseBankFile(text, format);
      if (parsed instanceof BankFileError) throw new CliExit(1, `${file}: refused, nothing imported — ${parsed.message}`);
      const summary = await withPlatform((ctx) => importBankStatement(ctx, { actor: 'system', text, format: format ?? parsed.format }));
      if (o.json === true) printJson(summary);
      else process.stdout.write(formatImportSummary(summary));
    });

  const payment = program.command('payment').description('payments (operator)');
  payment
    .command('unallocated')
    .description('list the unallocated payments queue')
    .action(async () => printJson(await withPlatform((ctx) => unallocatedPayments(ctx.db))));
  payment
    .command('ageing')
    .description('ageing of receivables across clients: not due, 0–30, 31–60, 61–90, 90+ days past due (cents)')
    .option('--as-of <date>', 'YYYY-MM-DD (default: today)')
    .action(async (o: { asOf?: string }) => {
      if (o.asOf !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(o.asOf)) throw validationError('--as-of', 'a date YYYY-MM-DD');
      printJson(await withPlatform((ctx) => receivablesAgeing(ctx.db, o.asOf ?? localDate(ctx.clock.now()))));
    });
  payment
    .command('allocate')
    .description('allocate an unallocated payment to a client (oldest open invoices first) or to an invoice')
    .requiredOption('--payment <id>', 'payment id')
    .option('--client <id>', 'client id')
    .option('--invoice <number>', 'invoice number YYYY-NNNNNN')
    .option('--note <text>', 'note kept in the audit log')
    .action(async (o: { payment: string; client?: string; invoice?: string; note?: string }) =>
      printJson(await withPlatform((ctx) => allocatePayment(ctx, { actor: 'system', paymentId: o.payment, clientId: o.client, invoiceNumber: o.invoice, note: o.note }))),
    );

  const service = program.command('service').description("a client's service state (operator)");
  service
    .command('suspend')
    .description('suspend by hand: --clause 9.1c (breach of §4 → minimum service) or 9.2 (security)')
    .requiredOption('--client <id>', 'client id')
    .requiredOption('--clause <clause>', '9.1c or 9.2')
    .requiredOption('--reason <text>', 'the reason, recorded')
    .action(async (o: { client: string; clause: string; reason: string }) =>
      printJson(await withPlatform((ctx) => suspendClient(ctx, { actor: 'system', clientId: o.client, clause: o.clause, reason: o.reason }))),
    );
  service
    .command('reactivate')
    .description('reactivate by hand (lifts every open suspension)')
    .requiredOption('--client <id>', 'client id')
    .requiredOption('--reason <text>', 'the reason, recorded')
    .option('--clause <clause>', 'the clause (default: 9.2 from a security suspension, else 9.1c)')
    .action(async (o: { client: string; reason: string; clause?: string }) =>
      printJson(await withPlatform((ctx) => reactivateClient(ctx, { actor: 'system', clientId: o.client, reason: o.reason, clause: o.clause }))),
    );

  const guarantee = program.command('guarantee').description('§9.3 bank guarantees (operator)');
  guarantee
    .command('register')
    .description('register a bank guarantee covering a disputed invoice amount')
    .requiredOption('--invoice <number>', 'the disputed invoice')
    .requiredOption('--amount <euros>', 'amount covered, EUR')
    .option('--reference <text>', "the bank's guarantee reference")
    .action(async (o: { invoice: string; amount: string; reference?: string }) => {
      let amountCents: number;
      try {
        amountCents = parseEuros(o.amount);
      } catch {
        throw validationError('--amount', 'an amount in EUR, e.g. 120.00');
      }
      printJson(await withPlatform((ctx) => registerGuarantee(ctx, { actor: 'system', invoiceNumber: o.invoice, amountCents, reference: o.reference })));
    });
}
