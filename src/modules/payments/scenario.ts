/**
 * Payments in scenarios (SCENARIOS.md): `payment` { amount (EUR), reference | invoice |
 * client }, recorded at the step's instant as a manual payment; `bankStatement` { file }
 * (CAMT.053 or CODA, relative to the scenario), imported at the step's instant;
 * `guarantee.register` { client, amount, invoice } (§9.3); `suspend` / `reactivate`
 * { client, clause, reason } (staff, §9.1c / §9.2). The report's `clients[].balanceCents`
 * already includes client credit (billing's balance, adjusted by this module's hook).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isAppError } from '../../kernel/errors.ts';
import type { ModuleScenario } from '../../scenario/actions.ts';
import { ScenarioFileError, type ScenarioStep } from '../../scenario/file.ts';
import { eurosAt, where, optStr, reqStr } from '../../scenario/fields.ts';
import type { ScenarioRun } from '../../scenario/runner.ts';
import { BankFileError, parseBankFile } from './bank/index.ts';
import { importBankStatement, reactivateClient, recordPayment, registerGuarantee, setDunningPolicy, suspendClient } from './index.ts';

function euros(step: ScenarioStep, field: string): number {
  const raw = step.fields[field];
  if (raw === undefined || raw === null) throw new ScenarioFileError(where(step, field), 'required, an amount in EUR, e.g. "60.50"');
  const cents = eurosAt(raw, where(step, field));
  if (cents <= 0) throw new ScenarioFileError(where(step, field), 'a positive amount');
  return cents;
}

/** `settings.dunning`: the operator's changes to the dunning policy (dunning-policy.ts), set before the first step. */
async function setup(run: ScenarioRun): Promise<void> {
  const changes = run.scenario.settings.dunning;
  if (changes === undefined) return;
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) throw new ScenarioFileError('settings.dunning', 'a mapping of dunning policy fields');
  try {
    await setDunningPolicy(run.platform.ctx, { actor: 'system', changes: changes as Record<string, unknown> });
  } catch (e) {
    if (isAppError(e)) throw new ScenarioFileError(`settings.dunning${(e.field ?? '').replace(/^\//u, '.')}`, e.message);
    throw e;
  }
}

export const paymentsScenario: ModuleScenario = {
  setup,
  actions: {
    bankStatement: {
      async run(run, step) {
        const file = reqStr(step, 'file');
        let text: string;
        try {
          text = readFileSync(resolve(run.baseDir, file), 'utf8');
        } catch (e) {
          throw new ScenarioFileError(where(step, 'file'), `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
        }
        const parsed = parseBankFile(text);
        if (parsed instanceof BankFileError) throw new ScenarioFileError(where(step, 'file'), parsed.message);
        await importBankStatement(run.platform.ctx, { actor: 'system', text, format: parsed.format });
      },
    },
    'guarantee.register': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const invoiceNumber = reqStr(step, 'invoice');
        if (!/^\d{4}-\d{6}$/.test(invoiceNumber)) throw new ScenarioFileError(where(step, 'invoice'), 'an invoice number YYYY-NNNNNN');
        await registerGuarantee(run.platform.ctx, { actor: 'system', clientId, invoiceNumber, amountCents: euros(step, 'amount'), reference: optStr(step, 'reference') });
      },
    },
    suspend: {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const clause = reqStr(step, 'clause');
        if (clause !== '9.1c' && clause !== '9.2') throw new ScenarioFileError(where(step, 'clause'), 'a staff suspension is under 9.1c or 9.2');
        await suspendClient(run.platform.ctx, { actor: 'system', clientId, clause, reason: reqStr(step, 'reason') });
      },
    },
    reactivate: {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        await reactivateClient(run.platform.ctx, { actor: 'system', clientId, clause: optStr(step, 'clause'), reason: reqStr(step, 'reason') });
      },
    },
    payment: {
      async run(run, step) {
        const amountCents = euros(step, 'amount');
        const reference = optStr(step, 'reference');
        const invoiceNumber = optStr(step, 'invoice');
        const clientName = step.fields.client;
        const clientId = clientName === undefined ? undefined : run.clientId(clientName, where(step, 'client'));
        if (reference === undefined && invoiceNumber === undefined && clientId === undefined) {
          throw new ScenarioFileError(where(step, 'reference'), 'one of reference, invoice or client is required');
        }
        if (invoiceNumber !== undefined && !/^\d{4}-\d{6}$/.test(invoiceNumber)) throw new ScenarioFileError(where(step, 'invoice'), 'an invoice number YYYY-NNNNNN');
        await recordPayment(run.platform.ctx, { actor: 'system', amountCents, reference, invoiceNumber, clientId });
      },
    },
  },
};
