/**
 * The payments scenario actions end to end (SCENARIOS.md): `guarantee.register` (§9.3:
 * beta's guaranteed invoice is never dunned), `suspend` / `reactivate` (§9.2 by staff; the
 * payment from the `bankStatement` CODA file closes the dunning suspension but is no
 * reactivation: the security suspension holds), and §5.2 interest charged on the final invoice at termination,
 * over the DST change and the leap day.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/file.ts';
import { runScenario, runScenarioFile } from '../../src/scenario/runner.ts';

describe('scenario payments-actions', () => {
  it('runs the payments actions', { timeout: 120_000 }, async () => {
    const report = await runScenarioFile(fileURLToPath(new URL('./payments-actions.yaml', import.meta.url)));
    const steps = report.steps.map((s) => [s.do, s.ok, s.error?.code ?? null]);
    expect(steps.at(-1)).toEqual(['suspend', false, 'CLIENT_TERMINATED']);
    expect(steps.slice(0, -1).every(([, ok]) => ok === true)).toBe(true);

    const inv = (n: string) => report.invoices.find((i) => i.number === n) as { client: string; totalInclVatCents: number; lines: { type: string; amountCents: number; vatRate: number }[] } | undefined;
    expect(inv('2028-000001')).toMatchObject({ client: 'alpha', totalInclVatCents: 2879 });
    expect(inv('2028-000002')).toMatchObject({ client: 'beta', totalInclVatCents: 2879 });

    const ev = (client: string) => report.events.filter((e) => e.client === client && e.type !== 'number_released').map((e) => `${e.at} ${e.type} ${e.clause ?? ''}`);
    expect(ev('beta').filter((e) => /reminder|formal_notice|suspension/.test(e))).toEqual([]);
    expect(ev('beta')).toContain('2028-02-10T10:00:00+01:00 guarantee 9.3');
    expect(ev('alpha')).toEqual(
      expect.arrayContaining([
        '2028-02-28T00:00:00+01:00 reminder 5.2',
        '2028-03-08T00:00:00+01:00 reminder 8.8',
        '2028-03-13T00:00:00+01:00 formal_notice 9.1a',
        '2028-03-19T00:00:00+01:00 suspension 9.1a',
        '2028-03-20T09:00:00+01:00 security_suspension 9.2',
        '2028-03-22T10:00:00+01:00 reactivation 9.2',
      ]),
    );
    // The payment closes the dunning suspension but is no reactivation: alpha stays security-suspended.
    expect(ev('alpha').filter((e) => e.includes('reactivation'))).toEqual(['2028-03-22T10:00:00+01:00 reactivation 9.2']);
    // Refused while security-suspended (before and after the payment), allowed after staff reactivation.
    expect(report.calls.map((c) => [c.step, c.allowed, c.clause])).toEqual([
      [10, false, '9.2'],
      [12, false, '9.2'],
      [14, true, null],
    ]);

    // The final invoice of beta: §5.2 interest on 2028-000002, 2879 × 12 % × 29 / 365 = 27.45… → 27 cents.
    const final = report.invoices.filter((i) => i.client === 'beta').at(-1) as { issueDate: string; lines: { type: string; amountCents: number; vatRate: number; description?: string }[] };
    expect(final.issueDate).toBe('2028-03-27');
    expect(final.lines.filter((l) => l.type === 'interest').map((l) => [l.amountCents, l.vatRate])).toEqual([[27, 0]]);
    expect(report.clients.map((c) => [c.id, c.serviceState])).toEqual([
      ['alpha', 'active'],
      ['beta', 'terminated'],
    ]);
  });

  it('settings.dunning changes the policy for the run; a bad value makes the scenario invalid, naming the field', async () => {
    const scenario = (dunning: string) =>
      parseScenario(`name: d\nstart: "2027-03-01T08:00:00+01:00"\nsettings: { dunning: ${dunning} }\nsteps:\n  - { do: advance, to: "2027-03-02T00:00:00+01:00" }\n`);
    await expect(runScenario(scenario('{ suspensionDay: 10 }'))).rejects.toMatchObject({ where: 'settings.dunning.suspensionDay' });
    await expect(runScenario(scenario('{ suspensionDay: 30, reminderFeeCents: 1000 }'))).resolves.toBeDefined();
  });
});
