/**
 * Runs the hand-worked example first-invoice (shared/scenarios) and the billing
 * scenario files beside this test against their expected reports.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectScenarioToMatch, hasSharedScenarios, SHARED_SCENARIOS } from '../support/scenarios.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

const cases: [string, string, boolean][] = [
  ['first-invoice', SHARED_SCENARIOS, hasSharedScenarios],
  ['billing-boundaries', here, true],
  ['billing-leap-year', here, true],
  ['billing-calls', here, true],
  ['billing-termination-fee', here, true],
];

describe.each(cases)('scenario %s', (name, dir, present) => {
  it.skipIf(!present)('matches its expected report', { timeout: 120_000 }, async () => {
    const report = await expectScenarioToMatch(dir, name);
    expect(report.steps.every((s) => s.ok)).toBe(true);
  });
});
