/**
 * Runs the hand-worked example dunning (/work/shared/scenarios: reminders D+1/D+10, formal
 * notice D+15, suspension D+21, reactivation at payment, §5.2 interest and §8.8 fee on the
 * next invoice) and checks its report with compare.mjs, plus the key figures directly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenarioFile } from '../../src/scenario/runner.ts';

const SHARED = '/work/shared/scenarios';
const COMPARE = join(SHARED, 'compare.mjs');
const out = mkdtempSync(join(tmpdir(), 'e2p-payments-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const cases: [string, string][] = [['dunning', SHARED]];

describe.each(cases)('scenario %s', (name, dir) => {
  it.skipIf(!existsSync(join(dir, `${name}.yaml`)))('matches its expected report', { timeout: 120_000 }, async () => {
    const report = await runScenarioFile(join(dir, `${name}.yaml`));
    const actual = join(out, `${name}.json`);
    writeFileSync(actual, JSON.stringify(report, null, 1));
    expect(report.steps.every((s) => s.ok)).toBe(true);
    if (name === 'dunning') {
      const third = report.invoices[2] as { lines: { type: string; amountCents: number; vatRate: number }[]; totalInclVatCents: number } | undefined;
      expect(third?.totalInclVatCents).toBe(4577);
      expect(third?.lines.filter((l) => l.vatRate === 0).map((l) => [l.type, l.amountCents])).toEqual([
        ['reminder_fee', 1500],
        ['interest', 46],
      ]);
      const events = report.events.filter((e) => e.type !== 'number_released').map((e) => `${e.at} ${e.type} ${e.clause ?? ''}`);
      expect(events).toEqual([
        '2027-04-28T00:00:00+02:00 reminder 5.2',
        '2027-05-07T00:00:00+02:00 reminder 8.8',
        '2027-05-12T00:00:00+02:00 formal_notice 9.1a',
        '2027-05-18T00:00:00+02:00 suspension 9.1a',
        '2027-05-20T10:00:00+02:00 reactivation 9.1a',
      ]);
    }
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
