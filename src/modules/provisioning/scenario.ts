/**
 * Scenario actions of provisioning (SCENARIOS.md): `user.create`, `user.delete`,
 * `number.reserve`, `number.assign`, `number.release`, and the `catalog.numbers` import
 * at start. Steps act as the platform (`system`, staff rights): `override` on
 * `user.delete` is the staff override of §8.5 with its reason.
 */
import { isAppError } from '../../kernel/errors.ts';
import type { ModuleScenario } from '../../scenario/actions.ts';
import { ScenarioFileError, type ScenarioStep } from '../../scenario/file.ts';
import { where } from '../../scenario/fields.ts';
import type { ScenarioRun } from '../../scenario/runner.ts';
import { assignNumber } from './assign-number.ts';
import { createUsers } from './create-users.ts';
import { deleteUsers } from './delete-users.ts';
import { compareExtensions, extensionSequence } from './extension.ts';
import { importNumbers } from './import-numbers.ts';
import type { NumberRange, SingleNumber } from './number-import-rules.ts';
import { releaseNumber } from './release-number.ts';
import { reserveNumber } from './reserve-number.ts';
import { currentUsers } from './user-store.ts';

function str(step: ScenarioStep, field: string): string;
function str(step: ScenarioStep, field: string, optional: true): string | undefined;
function str(step: ScenarioStep, field: string, optional = false): string | undefined {
  const v = step.fields[field];
  if (v === undefined && optional) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v); // extension: 101 unquoted in YAML
  if (typeof v !== 'string' || v === '') throw new ScenarioFileError(where(step, field), 'required, a string');
  return v;
}

function positiveInt(step: ScenarioStep, field: string): number {
  const v = step.fields[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ScenarioFileError(where(step, field), 'a positive integer');
  return v;
}

/** A validation error of the step's own data is a file error (exit 2), not a refusal. */
async function asFileErrors<T>(step: ScenarioStep, field: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAppError(e) && e.kind === 'validation') throw new ScenarioFileError(where(step, field), e.message);
    throw e;
  }
}

async function userIdByExtension(run: ScenarioRun, step: ScenarioStep, clientId: string, extension: string): Promise<string> {
  const u = (await currentUsers(run.platform.ctx.db, clientId)).find((x) => x.extension === extension);
  if (!u) throw new ScenarioFileError(where(step, 'user'), `no user with extension ${extension} (create it first with user.create)`);
  return u.id;
}

async function loadCatalogNumbers(run: ScenarioRun): Promise<void> {
  const list = run.scenario.catalog.numbers;
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new ScenarioFileError('catalog.numbers', 'expected a list');
  const ranges: NumberRange[] = [];
  const numbers: SingleNumber[] = [];
  list.forEach((item: unknown, i) => {
    const at = `catalog.numbers[${i}]`;
    if (typeof item !== 'object' || item === null) throw new ScenarioFileError(at, 'expected { from, to, type } or { number, type }');
    const o = item as Record<string, unknown>;
    if (o.type !== 'national' && o.type !== 'international') throw new ScenarioFileError(`${at}.type`, 'national or international');
    if (typeof o.from === 'string' && typeof o.to === 'string') ranges.push({ from: o.from, to: o.to, type: o.type });
    else if (typeof o.number === 'string') numbers.push({ number: o.number, type: o.type });
    else throw new ScenarioFileError(at, 'expected { from, to, type } or { number, type }');
  });
  if (ranges.length + numbers.length === 0) return;
  try {
    await importNumbers(run.platform.ctx, { actor: 'system', ranges, numbers });
  } catch (e) {
    if (isAppError(e) && e.kind === 'validation') throw new ScenarioFileError(`catalog.numbers${e.field ?? ''}`, e.message);
    throw e;
  }
}

export const provisioningScenario: ModuleScenario = {
  setup: loadCatalogNumbers,
  actions: {
    'user.create': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const extensions =
          step.fields.count !== undefined
            ? await asFileErrors(step, 'firstExtension', () => extensionSequence(str(step, 'firstExtension'), positiveInt(step, 'count')))
            : [str(step, 'extension')];
        const displayName = str(step, 'name', true);
        await asFileErrors(step, 'extension', () =>
          createUsers(run.platform.ctx, { actor: 'system', clientId, users: extensions.map((extension) => ({ extension, displayName })) }),
        );
      },
    },
    'user.delete': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const users = (await currentUsers(run.platform.ctx.db, clientId)).sort((a, b) => compareExtensions(a.extension, b.extension));
        let ids: string[];
        if (step.fields.count !== undefined) {
          const count = positiveInt(step, 'count');
          if (count > users.length) throw new ScenarioFileError(where(step, 'count'), `the client has only ${users.length} users`);
          ids = users.slice(users.length - count).map((u) => u.id);
        } else {
          ids = [await userIdByExtension(run, step, clientId, str(step, 'extension'))];
        }
        const override = step.fields.override;
        if (override !== undefined && (typeof override !== 'string' || override.trim() === '')) {
          throw new ScenarioFileError(where(step, 'override'), 'the reason of the staff override, a string');
        }
        await deleteUsers(run.platform.ctx, { actor: 'system', clientId, userIds: ids, overrideReason: override });
      },
    },
    'number.reserve': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        await reserveNumber(run.platform.ctx, { actor: 'system', clientId, number: str(step, 'number') });
      },
    },
    'number.assign': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const ext = str(step, 'user', true);
        const userId = ext === undefined ? null : await userIdByExtension(run, step, clientId, ext);
        const main = step.fields.main;
        if (main !== undefined && typeof main !== 'boolean') throw new ScenarioFileError(where(step, 'main'), 'true or false');
        await assignNumber(run.platform.ctx, { actor: 'system', clientId, number: str(step, 'number'), userId, main });
      },
    },
    'number.release': {
      async run(run, step) {
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        await releaseNumber(run.platform.ctx, { actor: 'system', clientId, number: str(step, 'number') });
      },
    },
  },
};
