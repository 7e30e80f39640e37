import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioFileError } from './file.ts';
import { runScenario } from './runner.ts';

const run = async (yaml: string) => runScenario(parseScenario(yaml));

describe('scenario runner', () => {
  it('runs an empty scenario and reports every part', async () => {
    const report = await run('name: empty\nstart: "2027-01-04T09:00:00+01:00"\nsteps: []\n');
    expect(report).toEqual({ scenario: 'empty', steps: [], invoices: [], calls: [], events: [], clients: [] });
  });

  it('advances the simulated clock through the daily jobs (DST day included)', async () => {
    const report = await run(`
name: advance
start: "2027-03-26T09:00:00+01:00"
steps:
  - { do: advance, to: "2027-03-29T00:00:00+02:00" }
  - { at: "2027-03-29T10:00:00+02:00", do: advance, to: "2027-03-29T10:00:00+02:00" }
`);
    expect(report.steps).toEqual([
      { index: 0, do: 'advance', at: '2027-03-26T09:00:00+01:00', ok: true },
      { index: 1, do: 'advance', at: '2027-03-29T10:00:00+02:00', ok: true },
    ]);
  });

  it.each([
    ['an unknown action', 'steps:\n  - { do: client.fly }', /steps\[0\]\.do: unknown action "client.fly"/],
    ['a missing action', 'steps:\n  - { at: "2027-01-05T09:00:00+01:00" }', /steps\[0\]\.do: required/],
    ['an instant without offset', 'steps:\n  - { at: "2027-01-05T09:00:00", do: advance, to: "2027-01-06T09:00:00+01:00" }', /steps\[0\]\.at: expected an ISO 8601 instant/],
    ['an `at` earlier than the clock', 'steps:\n  - { at: "2027-01-03T09:00:00+01:00", do: advance, to: "2027-01-06T09:00:00+01:00" }', /steps\[0\]\.at: .* is earlier than the clock/],
    ['advance without `to`', 'steps:\n  - { do: advance }', /steps\[0\]\.to: required/],
    ['steps that are not a list', 'steps: 3', /^steps: expected a list/],
  ])('refuses %s, naming the step and field', async (_what, body, message) => {
    const err = await run(`name: bad\nstart: "2027-01-04T09:00:00+01:00"\n${body}\n`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioFileError);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses a file without name or start', () => {
    expect(() => parseScenario('steps: []')).toThrow(/^name: required/);
    expect(() => parseScenario('name: x\nstart: tomorrow')).toThrow(/^start: expected an ISO 8601 instant/);
    expect(() => parseScenario('name: [')).toThrow(ScenarioFileError);
  });
});
