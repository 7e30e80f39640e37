import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';
import { MigrationError } from '../db/client.ts';
import { isAppError } from '../kernel/errors.ts';
import { runMigrate, runStart } from './start.ts';
import { runScenarioCommand } from './scenario.ts';
import { runAdminCreate } from './admin.ts';
import { CliExit } from './exit.ts';
import { registerOperations } from './operations.ts';
import { registerBankCommands } from './bank.ts';
import { registerBilling } from './billing.ts';

export function buildProgram(): Command {
  const program = new Command('easy2phone')
    .description('Easy2Phone — cloud telephony operator platform (SIP server, contracts, billing, dunning, support)')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description('start the platform: HTTP API and portal, SIP server, scheduler (embedded database unless DATABASE_URL is set)')
    .action(async () => {
      await runStart(loadConfig());
    });

  program
    .command('migrate')
    .description('apply the pending database migrations and exit')
    .action(async () => {
      await runMigrate(loadConfig());
    });

  const admin = program.command('admin').description('operator staff accounts');
  admin
    .command('create')
    .description('create an operator staff account (prints a generated password when none is given)')
    .requiredOption('--email <email>', 'e-mail address used to log in')
    .option('--role <role>', 'admin, billing, support or noc', 'admin')
    .option('--name <name>', 'display name', '')
    .option('--password <password>', 'password (at least 12 characters); generated when omitted')
    .action(async (opts: { email: string; role: string; name: string; password?: string }) => {
      await runAdminCreate(loadConfig(), opts);
    });

  registerOperations(program);
  registerBankCommands(program);
  registerBilling(program);

  const scenario = program.command('scenario').description('scenario files (see docs/scenarios.md)');
  scenario
    .command('run')
    .description('run a scenario file on a fresh in-memory platform and print its report')
    .argument('<file>', 'scenario file (YAML or JSON)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      await runScenarioCommand(file, opts.json === true);
    });

  return program;
}

/** Runs the CLI; returns the exit status (never throws). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : e.exitCode || 2;
    }
    if (e instanceof CliExit) {
      process.stderr.write(`easy2phone: ${e.message}\n`);
      return e.status;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`easy2phone: configuration error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof MigrationError) {
      process.stderr.write(`easy2phone: ${e.message}\n`);
      return 1;
    }
    if (isAppError(e)) {
      const where = e.field ? ` (${e.field})` : '';
      const clause = e.clause ? ` [clause ${e.clause}]` : '';
      process.stderr.write(`easy2phone: ${e.code}${where}: ${e.message}${clause}\n`);
      return 1;
    }
    process.stderr.write(`easy2phone: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
