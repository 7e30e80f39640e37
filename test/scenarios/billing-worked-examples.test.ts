/**
 * Runs the hand-worked example first-invoice (/work/shared/scenarios) and the billing
 * scenario files beside this test, and checks each report with compare.mjs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenarioFile } from '../../src/scenario/runner.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const SHARED = '/work/shared/scenarios';
const COMPARE = join(SHARED, 'compare.mjs');
const out = mkdtempSync(join(tmpdir(), 'e2p-billing-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const cases: [string, string][] = [
  ['first-invoice', SHARED],
  ['billing-boundaries', here],
  ['billing-leap-year', here],
  ['billing-calls', here],
];

describe.each(cases)('scenario %s', (name, dir) => {
  it.skipIf(!existsSync(join(dir, `${name}.yaml`)))('matches its expected report', { timeout: 120_000 }, async () => {
    const report = await runScenarioFile(join(dir, `${name}.yaml`));
    const actual = join(out, `${name}.json`);
    writeFileSync(actual, JSON.stringify(report, null, 1));
    expect(report.steps.every((s) => s.ok)).toBe(true);
    if (!existsSync(COMPARE)) return;
    let output = '';
    try {
      output = execFileSync('node', [COMPARE, join(dir, `${name}.expected.json`), actual], { encoding: 'utf8' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`${name}: report differs\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    expect(output.trim()).toBe('match');
  });
});
