/** Reading a scenario step's fields: each refusal names the field as `steps[i].field` (SCENARIOS.md). */
import { parseEuros } from '../kernel/money.ts';
import { ScenarioFileError, type ScenarioStep } from './file.ts';

/** `steps[i].field`: where a step's field stands in the file. */
export const where = (step: ScenarioStep, field: string): string => `steps[${step.index}].${field}`;

/** An optional non-empty string (a number is taken as its decimal text). */
export function optStr(step: ScenarioStep, field: string): string | undefined {
  const v = step.fields[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v === '') throw new ScenarioFileError(where(step, field), 'a non-empty string');
  return v;
}

export function reqStr(step: ScenarioStep, field: string): string {
  const v = optStr(step, field);
  if (v === undefined) throw new ScenarioFileError(where(step, field), 'required, a string');
  return v;
}

/** An amount ("12.50", or 12.5 written as a number) read by `parse` into integers (cents, µ€); `at` names it in a refusal. */
export function amountAt(value: unknown, at: string, parse: (text: string) => number): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') throw new ScenarioFileError(at, 'an amount in EUR, e.g. "12.50"');
  try {
    return parse(text);
  } catch (e) {
    throw new ScenarioFileError(at, e instanceof Error ? e.message : String(e));
  }
}

/** An amount in EUR in integer cents. */
export const eurosAt = (value: unknown, at: string): number => amountAt(value, at, parseEuros);
