/**
 * Scenario reports checked the way `shared/scenarios/compare.mjs` checks them: every key
 * of the expected report must be in the actual one with an equal value; arrays match
 * element by element, except arrays under a key ending in `?`, whose elements need only
 * be found somewhere in the actual array. Extra keys in the actual report are ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { runScenarioFile } from '../../src/scenario/runner.ts';
import type { Report } from '../../src/scenario/report.ts';

/** The worked examples of the rules book, in `shared/` beside the project. */
export const SHARED_SCENARIOS = fileURLToPath(new URL('../../../shared/scenarios/', import.meta.url));
export const hasSharedScenarios = existsSync(SHARED_SCENARIOS);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function reportMismatches(expected: unknown, actual: unknown, path = '$'): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    const problems = expected.length === actual.length ? [] : [`${path}: expected ${expected.length} items, got ${actual.length}`];
    return problems.concat(expected.flatMap((e: unknown, i) => reportMismatches(e, actual[i], `${path}[${i}]`)));
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) => {
      if (!key.endsWith('?')) return reportMismatches(value, actual[key], `${path}.${key}`);
      const name = key.slice(0, -1);
      const list = actual[name];
      if (!Array.isArray(list)) return [`${path}.${name}: expected an array`];
      return (value as unknown[])
        .filter((e) => !list.some((a) => reportMismatches(e, a).length === 0))
        .map((e) => `${path}.${name}: nothing matches ${JSON.stringify(e)}`);
    });
  }
  return expected === actual ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** Runs `NAME.yaml` of `dir` and expects its report to match `NAME.expected.json`. */
export async function expectScenarioToMatch(dir: string, name: string): Promise<Report> {
  const report = await runScenarioFile(`${dir}/${name}.yaml`);
  const expected = JSON.parse(readFileSync(`${dir}/${name}.expected.json`, 'utf8')) as unknown;
  expect(reportMismatches(expected, JSON.parse(JSON.stringify(report)))).toEqual([]);
  return report;
}
