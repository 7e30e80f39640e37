/**
 * The provisioning scenario actions (SCENARIOS.md): `catalog.numbers` loaded at start,
 * `user.create` (single / count + firstExtension), `user.delete` (extension / count of the
 * highest / staff `override`), `number.reserve|assign|release`, on a platform with a
 * simulated clock, as the runner drives them. The contract state is stubbed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { freshMemoryDatabase } from '../../src/db/template.ts';
import { SimulatedClock } from '../../src/kernel/clock.ts';
import { contractStates } from '../support/contract-state-stub.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import { listClientNumbers, listUsers } from '../../src/modules/provisioning/index.ts';
import { provisioningScenario } from '../../src/modules/provisioning/scenario.ts';
import { parseScenario, ScenarioFileError } from '../../src/scenario/file.ts';
import type { ScenarioRun } from '../../src/scenario/runner.ts';
import type { Database } from '../../src/db/client.ts';
import { seedClient } from '../http/harness.ts';

vi.mock('../../src/modules/customers/contract-status.ts', async (importOriginal) =>
  (await import('../support/contract-state-stub.ts')).stubContractStatus(importOriginal),
);

const SCENARIO = `
name: provisioning
start: "2027-01-04T09:00:00+01:00"
catalog:
  numbers:
    - { from: "+3243210000", to: "+3243210009", type: national }
    - { number: "+33187650000", type: international }
steps: []
`;

describe('provisioning scenario actions', () => {
  let database: Database;
  let platform: Platform;
  let clock: SimulatedClock;
  let run: ScenarioRun;
  let acme: string;

  beforeAll(async () => {
    const scenario = parseScenario(SCENARIO);
    clock = new SimulatedClock(scenario.start);
    database = await freshMemoryDatabase();
    platform = await createPlatform(loadConfig({ E2P_LOG_LEVEL: 'silent' }, '/tmp'), { clock, database });
    run = {
      scenario,
      platform,
      clock,
      report: { scenario: scenario.name, steps: [], invoices: [], calls: [], events: [], clients: [] },
      baseDir: '/tmp',
      clientIds: new Map(),
      clientNames: new Map(),
      clientId(name, where) {
        const id = typeof name === 'string' ? this.clientIds.get(name) : undefined;
        if (!id) throw new ScenarioFileError(where, `unknown client ${JSON.stringify(name)}`);
        return id;
      },
      async advanceTo(to) {
        await platform.runJobsUntil(to);
        clock.set(to);
      },
    };
    acme = await seedClient({ platform, clock, close: async () => undefined }, 'ACME');
    run.clientIds.set('acme', acme);
    run.clientNames.set(acme, 'acme');
    await provisioningScenario.setup!(run);
  });
  afterAll(async () => {
    await platform.close();
    await database.close();
  });

  let index = 0;
  const step = (action: string, fields: Record<string, unknown>) =>
    provisioningScenario.actions[action]!.run(run, { index: index++, do: action, at: undefined, atText: undefined, fields });

  it('refuses before the signature (§2.2), then creates users and assigns numbers', async () => {
    await expect(step('user.create', { client: 'acme', extension: '100' })).rejects.toMatchObject({ code: 'CONTRACT_NOT_SIGNED', clause: '2.2' });
    contractStates.set(acme, 'active');
    await step('user.create', { client: 'acme', count: 10, firstExtension: '101' });
    await step('user.create', { client: 'acme', extension: 100 });
    expect((await listUsers(platform.ctx.db, { actor: 'system', clientId: acme })).map((u) => u.extension)).toEqual([
      '100', '101', '102', '103', '104', '105', '106', '107', '108', '109', '110',
    ]);
    await step('number.reserve', { client: 'acme', number: '+3243210005' });
    await step('number.assign', { client: 'acme', number: '+3243210001', user: '101' });
    await run.advanceTo(new Date('2027-01-15T10:00:00+01:00'));
    await step('number.assign', { client: 'acme', number: '+33187650000', user: '102' });
    const numbers = await listClientNumbers(platform.ctx.db, { actor: 'system', clientId: acme });
    expect(numbers.map((n) => [n.number, n.state])).toEqual([
      ['+3243210001', 'assigned'],
      ['+3243210005', 'reserved'],
      ['+33187650000', 'assigned'],
    ]);
    expect(numbers.find((n) => n.number === '+33187650000')?.commitmentEnd).toBe('2028-01-14');
  });

  it('file errors name the step and field', async () => {
    await expect(step('user.create', { client: 'nobody', extension: '100' })).rejects.toThrow(ScenarioFileError);
    await expect(step('user.create', { client: 'acme', extension: '1' })).rejects.toThrow(/steps\[\d+\]\.extension/);
    await expect(step('number.assign', { client: 'acme', number: '+3243210002', user: '999' })).rejects.toThrow(/steps\[\d+\]\.user/);
  });

  it('§8.5: deletions in the next quarter stop at the floor; staff override passes', async () => {
    await run.advanceTo(new Date('2027-04-02T10:00:00+02:00')); // N0 = 11 → floor 10
    await step('user.delete', { client: 'acme', extension: '100' });
    await expect(step('user.delete', { client: 'acme', count: 1 })).rejects.toMatchObject({ code: 'USER_REDUCTION_LIMIT', clause: '8.5' });
    await step('user.delete', { client: 'acme', count: 2, override: 'moving offices' });
    expect((await listUsers(platform.ctx.db, { actor: 'system', clientId: acme })).map((u) => u.extension)).toEqual([
      '101', '102', '103', '104', '105', '106', '107', '108',
    ]);
    // the reservation made on 2027-01-04 expired at the job of 2027-02-03
    const expired = (await listEvents(platform.ctx.db, { type: 'reservation_expired' }))[0];
    expect(expired).toMatchObject({ clientId: acme, clause: '3.6', at: new Date('2027-02-03T00:00:00+01:00') });
  }, 120_000);

  it('§8.6: an early release of the international number waits for the job of 2028-01-15 00:00', async () => {
    await run.advanceTo(new Date('2027-06-01T10:00:00+02:00'));
    await step('number.release', { client: 'acme', number: '+33187650000' });
    await step('number.release', { client: 'acme', number: '+3243210001' });
    const pending = (await listClientNumbers(platform.ctx.db, { actor: 'system', clientId: acme })).find((n) => n.number === '+33187650000');
    expect(pending).toMatchObject({ state: 'assigned', releasePending: true, releaseEffectiveOn: '2028-01-15' });
    await run.advanceTo(new Date('2028-01-14T23:59:00+01:00'));
    expect((await listClientNumbers(platform.ctx.db, { actor: 'system', clientId: acme })).map((n) => n.number)).toEqual(['+33187650000']);
    await run.advanceTo(new Date('2028-01-15T00:00:00+01:00'));
    expect(await listClientNumbers(platform.ctx.db, { actor: 'system', clientId: acme })).toEqual([]);
    const released = (await listEvents(platform.ctx.db, { type: 'number_released' })).map((e) => [e.details.number, e.clause, e.at.toISOString()]);
    expect(released).toEqual([
      ['+3243210001', null, '2027-06-01T08:00:00.000Z'],
      ['+33187650000', '8.6', '2028-01-14T23:00:00.000Z'],
    ]);
  }, 180_000);
});
