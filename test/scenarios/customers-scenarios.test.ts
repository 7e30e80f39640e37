/** Runs the customers / catalogue scenario files beside this test and checks them with compare.mjs. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenarioFile } from '../../src/scenario/runner.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const COMPARE = '/work/shared/scenarios/compare.mjs';
const out = mkdtempSync(join(tmpdir(), 'e2p-customers-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.each(['customers-term', 'customers-refusals', 'customers-termination-numbers'])('scenario %s', (name) => {
  it('matches its expected report', { timeout: 120_000 }, async () => {
    const report = await runScenarioFile(join(here, `${name}.yaml`));
    const actual = join(out, `${name}.json`);
    writeFileSync(actual, JSON.stringify(report, null, 1));
    if (!existsSync(COMPARE)) {
      expect(report.steps.length).toBeGreaterThan(0);
      return;
    }
    let output = '';
    try {
      output = execFileSync('node', [COMPARE, join(here, `${name}.expected.json`), actual], { encoding: 'utf8' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`${name}: report differs\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    expect(output).toBeDefined();
  });
});
