/**
 * Scenario actions of customers (SCENARIOS.md): `client.create`, `contract.sign`,
 * `installation.complete`, `notice.nonRenewal`, `terminate`, and the `clients` part of
 * the report. Steps act as the platform (`system`, staff rights). A rule's refusal
 * (INVALID_ENTERPRISE_NUMBER, CONTRACT_NOT_SIGNED, NOTICE_TOO_LATE…) is a refused step;
 * a malformed field is a file error.
 */
import { isLocalDate } from '../../kernel/time.ts';
import type { ModuleScenario } from '../../scenario/actions.ts';
import { ScenarioFileError, type ScenarioStep } from '../../scenario/file.ts';
import { where, optStr, reqStr, eurosAt } from '../../scenario/fields.ts';
import type { ScenarioRun } from '../../scenario/runner.ts';
import { completeInstallation } from './complete-installation.ts';
import { currentContract } from './contract-store.ts';
import { createClient } from './create-client.ts';
import { createContract, type ContractLineInput } from './create-contract.ts';
import { noticeNonRenewal } from './notice-non-renewal.ts';
import { serviceStateOf } from './service-state.ts';
import { signContract } from './sign-contract.ts';
import { TERMINATION_GROUNDS, type TerminationGround } from './term-dates.ts';
import { terminateContract } from './terminate-contract.ts';

function lines(step: ScenarioStep): ContractLineInput[] {
  const raw = step.fields.lines ?? [];
  if (!Array.isArray(raw)) throw new ScenarioFileError(where(step, 'lines'), 'a list of { product, quantity, price? }');
  return raw.map((item: unknown, i) => {
    const at = `${where(step, 'lines')}[${i}]`;
    if (typeof item !== 'object' || item === null) throw new ScenarioFileError(at, 'expected { product, quantity, price? }');
    const o = item as Record<string, unknown>;
    if (typeof o.product !== 'string' || o.product === '') throw new ScenarioFileError(`${at}.product`, 'required, a product code');
    const quantity = o.quantity ?? 1;
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 0) throw new ScenarioFileError(`${at}.quantity`, 'a whole number ≥ 0');
    return { product: o.product, quantity, priceCents: o.price === undefined ? null : eurosAt(o.price, `${at}.price`) };
  });
}

function fileErrorsFromValidation(step: ScenarioStep, field: string) {
  return (e: unknown): never => {
    if (e instanceof Error && 'kind' in e && (e as { kind: string }).kind === 'validation' && !('code' in e && (e as { code: string }).code === 'INVALID_ENTERPRISE_NUMBER')) {
      const f = (e as { field?: string }).field ?? '';
      throw new ScenarioFileError(where(step, field) + f, e.message);
    }
    throw e;
  };
}

async function clientsReport(run: ScenarioRun): Promise<void> {
  const db = run.platform.ctx.db;
  for (const [name, id] of run.clientIds) {
    const c = await currentContract(db, id);
    run.report.clients.push({
      id: name,
      serviceState: (await serviceStateOf(db, id)) ?? 'active',
      balanceCents: 0, // billing (a later issue) fills the real balance
      contract: c ? { state: c.state, minimumTermEnd: c.minimumTermEnd, endDate: c.endDate } : null,
    });
  }
}

export const customersScenario: ModuleScenario = {
  finishers: [clientsReport],
  actions: {
    'client.create': {
      async run(run, step) {
        const name = reqStr(step, 'id');
        if (run.clientIds.has(name)) throw new ScenarioFileError(where(step, 'id'), `client ${name} already exists`);
        const language = optStr(step, 'language');
        if (language !== undefined && language !== 'fr' && language !== 'nl' && language !== 'en') {
          throw new ScenarioFileError(where(step, 'language'), 'fr, nl or en');
        }
        const deposit = step.fields.deposit;
        const view = await createClient(run.platform.ctx, {
          principal: 'system',
          name: optStr(step, 'name') ?? name,
          enterpriseNumber: optStr(step, 'enterpriseNumber'),
          language,
          billingEmail: optStr(step, 'email'),
          depositCents: deposit === undefined ? undefined : eurosAt(deposit, where(step, 'deposit')),
        }).catch(fileErrorsFromValidation(step, ''));
        run.clientIds.set(name, view.id);
        run.clientNames.set(view.id, name);
      },
    },
    'contract.sign': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const months = step.fields.minimumMonths;
        if (months !== undefined && (typeof months !== 'number' || !Number.isSafeInteger(months) || months < 0)) {
          throw new ScenarioFileError(where(step, 'minimumMonths'), 'a whole number of months');
        }
        const enable = step.fields.enable ?? [];
        if (!Array.isArray(enable) || enable.some((e) => typeof e !== 'string')) throw new ScenarioFileError(where(step, 'enable'), 'a list: premium, international');
        const ctx = run.platform.ctx;
        const draft = await createContract(ctx, { actor: 'system', clientId, minimumMonths: months, lines: lines(step), enable: enable as string[] }).catch(
          fileErrorsFromValidation(step, ''),
        );
        await signContract(ctx, { actor: 'system', clientId, contractId: draft.id });
      },
    },
    'installation.complete': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        await completeInstallation(run.platform.ctx, { actor: 'system', clientId });
      },
    },
    'notice.nonRenewal': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const by = optStr(step, 'by');
        if (by !== undefined && by !== 'client' && by !== 'operator') throw new ScenarioFileError(where(step, 'by'), 'client or operator');
        await noticeNonRenewal(run.platform.ctx, { actor: 'system', clientId, by });
      },
    },
    terminate: {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const by = optStr(step, 'by') ?? 'client';
        if (by !== 'client' && by !== 'operator') throw new ScenarioFileError(where(step, 'by'), 'client or operator');
        const ground = optStr(step, 'ground');
        if (ground === undefined || !(TERMINATION_GROUNDS as readonly string[]).includes(ground)) {
          throw new ScenarioFileError(where(step, 'ground'), `one of ${TERMINATION_GROUNDS.join(', ')}`);
        }
        const effective = optStr(step, 'effective');
        if (effective !== undefined && !isLocalDate(effective)) throw new ScenarioFileError(where(step, 'effective'), 'a date YYYY-MM-DD');
        await terminateContract(run.platform.ctx, { actor: 'system', clientId, by, ground: ground as TerminationGround, effective });
      },
    },
  },
};
