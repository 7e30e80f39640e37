/**
 * Provisioning through the scenario runner, with the real customers/catalog actions:
 * §2.2 refusal before signature, catalog numbers, §3.6 reservation expiry, §8.5 floor and
 * staff override, §8.6 pending release of an international number.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectScenarioToMatch } from '../support/scenarios.ts';

describe('scenario provisioning-lifecycle', () => {
  it('runs the provisioning rules over time', async () => {
    const report = await expectScenarioToMatch(fileURLToPath(new URL('.', import.meta.url)), 'provisioning-lifecycle');
    const steps = report.steps.map((s) => (s.ok ? 'ok' : `${s.error?.code ?? ''}/${s.error?.clause ?? ''}`));
    expect(steps).toEqual([
      'ok',
      'CONTRACT_NOT_SIGNED/2.2',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'USER_REDUCTION_LIMIT/8.5',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    const ours = report.events
      .filter((e) => e.type === 'reservation_expired' || e.type === 'number_released')
      .map((e) => [e.at, e.client, e.type, e.clause, e.details.number]);
    expect(ours).toEqual([
      ['2027-02-03T00:00:00+01:00', 'acme', 'reservation_expired', '3.6', '+3243210005'],
      ['2028-01-15T00:00:00+01:00', 'acme', 'number_released', '8.6', '+33187650000'],
    ]);
  }, 300_000);
});
