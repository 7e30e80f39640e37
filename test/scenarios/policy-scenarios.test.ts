/** Runs the call policy scenario files beside this test (§4.3b/§4.10 live limits, §9.2, §17.1) against their expected reports. */
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { expectScenarioToMatch } from '../support/scenarios.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

describe.each(['policy-limits'])('scenario %s', (name) => {
  it('matches its expected report', { timeout: 120_000 }, async () => {
    await expectScenarioToMatch(here, name);
  });
});
