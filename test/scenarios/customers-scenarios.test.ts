/** Runs the customers / catalogue scenario files beside this test against their expected reports. */
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { expectScenarioToMatch } from '../support/scenarios.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

describe.each(['customers-term', 'customers-refusals', 'customers-termination-numbers'])('scenario %s', (name) => {
  it('matches its expected report', { timeout: 120_000 }, async () => {
    await expectScenarioToMatch(here, name);
  });
});
