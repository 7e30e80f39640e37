/**
 * Runs the hand-worked example dunning (shared/scenarios: reminders D+1/D+10, formal
 * notice D+15, suspension D+21, reactivation at payment, §5.2 interest and §8.8 fee on the
 * next invoice) against its expected report, plus the key figures directly.
 */
import { describe, expect, it } from 'vitest';
import { expectScenarioToMatch, hasSharedScenarios, SHARED_SCENARIOS } from '../support/scenarios.ts';

describe('scenario dunning', () => {
  it.skipIf(!hasSharedScenarios)('matches its expected report', { timeout: 120_000 }, async () => {
    const report = await expectScenarioToMatch(SHARED_SCENARIOS, 'dunning');
    expect(report.steps.every((s) => s.ok)).toBe(true);
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
  });
});
