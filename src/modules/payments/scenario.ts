/**
 * Payments in scenarios (SCENARIOS.md): the `payment` action { amount (EUR), reference |
 * invoice | client }, recorded at the step's instant as a manual payment; and the report's
 * `clients[].balanceCents` already includes client credit (billing's balance, adjusted by
 * this module's hook).
 */
import { parseEuros } from '../../kernel/money.ts';
import type { ModuleScenario } from '../../scenario/actions.ts';
import { ScenarioFileError, type ScenarioStep } from '../../scenario/file.ts';
import { recordPayment } from './index.ts';

const where = (step: ScenarioStep, field: string): string => `steps[${step.index}].${field}`;

function optStr(step: ScenarioStep, field: string): string | undefined {
  const v = step.fields[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v === '') throw new ScenarioFileError(where(step, field), 'a non-empty string');
  return v;
}

export const paymentsScenario: ModuleScenario = {
  actions: {
    payment: {
      async run(run, step) {
        const raw = step.fields.amount;
        const text = typeof raw === 'number' ? String(raw) : raw;
        if (typeof text !== 'string') throw new ScenarioFileError(where(step, 'amount'), 'required, an amount in EUR, e.g. "60.50"');
        let amountCents: number;
        try {
          amountCents = parseEuros(text);
        } catch (e) {
          throw new ScenarioFileError(where(step, 'amount'), e instanceof Error ? e.message : String(e));
        }
        if (amountCents <= 0) throw new ScenarioFileError(where(step, 'amount'), 'a positive amount');
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
