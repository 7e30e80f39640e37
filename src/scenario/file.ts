import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** A scenario file (SCENARIOS.md): YAML or JSON. */
export interface Scenario {
  name: string;
  start: Date;
  settings: Record<string, unknown>;
  catalog: Record<string, unknown>;
  steps: ScenarioStep[];
}

export interface ScenarioStep {
  index: number;
  do: string;
  /** The step's instant, when given. */
  at: Date | undefined;
  /** The raw `at` text, echoed in the report. */
  atText: string | undefined;
  /** Every other field of the step. */
  fields: Record<string, unknown>;
}

/** The file itself is invalid: the runner exits 2 with this message. */
export class ScenarioFileError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'ScenarioFileError';
  }
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseInstant(value: unknown, where: string): Date {
  if (typeof value !== 'string' || !INSTANT.test(value)) {
    throw new ScenarioFileError(where, `expected an ISO 8601 instant with its offset (e.g. 2027-01-04T09:00:00+01:00), got ${JSON.stringify(value)}`);
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new ScenarioFileError(where, `not a valid instant: ${value}`);
  return d;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseScenario(text: string, source = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text); // JSON is YAML too
  } catch (e) {
    throw new ScenarioFileError(source, `not valid YAML/JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isRecord(raw)) throw new ScenarioFileError(source, 'expected a mapping with name, start and steps');
  const name = raw.name;
  if (typeof name !== 'string' || name === '') throw new ScenarioFileError('name', 'required, a non-empty string');
  const start = parseInstant(raw.start, 'start');
  const settings = raw.settings ?? {};
  if (!isRecord(settings)) throw new ScenarioFileError('settings', 'expected a mapping');
  const catalog = raw.catalog ?? {};
  if (!isRecord(catalog)) throw new ScenarioFileError('catalog', 'expected a mapping');
  const rawSteps = raw.steps ?? [];
  if (!Array.isArray(rawSteps)) throw new ScenarioFileError('steps', 'expected a list');
  const steps = rawSteps.map((s: unknown, index): ScenarioStep => {
    const where = `steps[${index}]`;
    if (!isRecord(s)) throw new ScenarioFileError(where, 'expected a mapping with a `do` field');
    const { do: action, at, ...fields } = s;
    if (typeof action !== 'string' || action === '') throw new ScenarioFileError(`${where}.do`, 'required, the action name');
    return {
      index,
      do: action,
      at: at === undefined ? undefined : parseInstant(at, `${where}.at`),
      atText: typeof at === 'string' ? at : undefined,
      fields,
    };
  });
  return { name, start, settings, catalog, steps };
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioFileError(path, `cannot read the file: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseScenario(text, path);
}
