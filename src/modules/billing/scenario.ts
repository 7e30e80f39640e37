/**
 * Billing in scenarios (SCENARIOS.md): `settings.billingDay` at setup, and the report's
 * `invoices[]` and `clients[].balanceCents` (registered after customers, whose
 * `clients[]` entries it completes).
 */
import type { ModuleScenario } from '../../scenario/actions.ts';
import { ScenarioFileError } from '../../scenario/file.ts';
import type { ScenarioRun } from '../../scenario/runner.ts';
import { isBillingDay, setBillingDay } from './billing-day.ts';
import { balanceCents, invoiceLineView, listInvoices } from './invoice-queries.ts';

async function setup(run: ScenarioRun): Promise<void> {
  const day = run.scenario.settings.billingDay;
  if (day === undefined) return;
  if (!isBillingDay(day)) throw new ScenarioFileError('settings.billingDay', 'an integer day of the month, 1..28');
  await setBillingDay(run.platform.ctx.db, day, run.clock.now());
}

async function invoicesReport(run: ScenarioRun): Promise<void> {
  const db = run.platform.ctx.db;
  for (const inv of await listInvoices(db)) {
    run.report.invoices.push({
      number: inv.number,
      kind: inv.kind,
      client: run.clientNames.get(inv.clientId) ?? inv.clientId,
      issueDate: inv.issueDate,
      dueDate: inv.dueDate,
      lines: inv.lines.map(invoiceLineView),
      totalExclVatCents: inv.totalExclVatCents,
      vatCents: inv.vatCents,
      totalInclVatCents: inv.totalInclVatCents,
      structuredReference: inv.structuredReference,
    });
  }
  for (const entry of run.report.clients) {
    const id = typeof entry.id === 'string' ? run.clientIds.get(entry.id) : undefined;
    if (id !== undefined) entry.balanceCents = await balanceCents(db, id);
  }
}

export const billingScenario: ModuleScenario = { setup, actions: {}, finishers: [invoicesReport] };
