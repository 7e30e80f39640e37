/** The default dunning policy, pure (RULES.md "Dunning and suspension"): the day boundaries. */
import { describe, expect, it } from 'vitest';
import { addDays } from '../../kernel/time.ts';
import { DEFAULT_DUNNING_POLICY, dunningStepsDue, mergeDunningPolicy, suspensionDue, terminationEligibleOn } from './dunning-policy.ts';
import { lateInterest } from './ledger.ts';
import type { DunningStep } from './schema.ts';

const due = '2027-04-27';
const steps = (day: number, taken: DunningStep[] = []) => dunningStepsDue({ dueDate: due, today: addDays(due, day), taken: new Set(taken) }).map((a) => `${a.step}:${a.clause}:${a.feeCents}`);

describe('dunningStepsDue', () => {
  it('nothing on the due date (D+0) or before', () => {
    expect(steps(0)).toEqual([]);
    expect(steps(-5)).toEqual([]);
  });
  it('D+1 reminder 1 (5.2, no fee)', () => {
    expect(steps(1)).toEqual(['reminder_1:5.2:0']);
  });
  it('D+9 nothing new, D+10 reminder 2 with the 15.00 € fee (8.8)', () => {
    expect(steps(9, ['reminder_1'])).toEqual([]);
    expect(steps(10, ['reminder_1'])).toEqual(['reminder_2:8.8:1500']);
  });
  it('D+14 nothing new, D+15 formal notice (9.1a)', () => {
    expect(steps(14, ['reminder_1', 'reminder_2'])).toEqual([]);
    expect(steps(15, ['reminder_1', 'reminder_2'])).toEqual(['formal_notice:9.1a:0']);
  });
  it('a missed evaluation catches up, each step once', () => {
    expect(steps(16)).toEqual(['reminder_1:5.2:0', 'reminder_2:8.8:1500', 'formal_notice:9.1a:0']);
    expect(steps(30, ['reminder_1', 'reminder_2', 'formal_notice'])).toEqual([]);
  });
  it('an amount covered by a guarantee triggers nothing', () => {
    expect(dunningStepsDue({ dueDate: due, today: addDays(due, 16), taken: new Set(), covered: true })).toEqual([]);
  });
});

describe('suspensionDue', () => {
  const inv = (day: number, reminded = true, openCents = 6050) => ({ dueDate: addDays('2027-05-01', -day), openCents, reminded });
  const today = '2027-05-01';
  it('D+20: not yet; D+21: suspension (9.1a)', () => {
    expect(suspensionDue({ today, overdue: [inv(20)], depositCents: 0 })).toBeNull();
    expect(suspensionDue({ today, overdue: [inv(21)], depositCents: 0 })).toEqual({ clause: '9.1a', overdueCents: 6050 });
  });
  it('no suspension without a reminder sent', () => {
    expect(suspensionDue({ today, overdue: [inv(25, false)], depositCents: 0 })).toBeNull();
  });
  it('no suspension for an amount covered by a guarantee', () => {
    expect(suspensionDue({ today, overdue: [{ ...inv(25), coveredCents: 6050 }], depositCents: 0 })).toBeNull();
  });
  it('§9.1b with a deposit: only when the total overdue debt exceeds it', () => {
    expect(suspensionDue({ today, overdue: [inv(25)], depositCents: 6050 })).toBeNull();
    expect(suspensionDue({ today, overdue: [inv(25), inv(3, true, 1)], depositCents: 6050 })).toEqual({ clause: '9.1b', overdueCents: 6051 });
  });
  it('§12.2a eligible one calendar month after the suspension day', () => {
    expect(terminationEligibleOn('2027-05-18')).toBe('2027-06-18');
    expect(terminationEligibleOn('2027-01-31')).toBe('2027-02-28');
  });
});

describe('lateInterest (§5.2)', () => {
  it('the dunning example: 60.50 € × 12 % × 23 days / 365 = 0.4575 → 46 cents', () => {
    expect(lateInterest('2027-04-27', [{ amountCents: 6050, at: new Date('2027-05-20T10:00:00+02:00') }])).toEqual({ cents: 46, days: 23 });
  });
  it('paid on the due date or before: none; partial payments accrue each for its own days', () => {
    expect(lateInterest('2027-04-27', [{ amountCents: 6050, at: new Date('2027-04-27T23:59:00+02:00') }]).cents).toBe(0);
    // 3000 × 10 + 3050 × 30 = 121 500 cent-days × 12 % / 365 = 39.945… → 40
    expect(lateInterest('2027-04-27', [
      { amountCents: 3000, at: new Date('2027-05-07T09:00:00+02:00') },
      { amountCents: 3050, at: new Date('2027-05-27T09:00:00+02:00') },
    ])).toEqual({ cents: 40, days: 30 });
  });
});

describe('the dunning policy as data', () => {
  const later = mergeDunningPolicy(DEFAULT_DUNNING_POLICY, { reminder2Day: 12, formalNoticeDay: 20, suspensionDay: 30, reminderFeeCents: 1000, terminationEligibleMonths: 2 });
  const inv = { dueDate: due, openCents: 6050, reminded: true };

  it('moves every step, the fee and the eligibility with the operator’s numbers', () => {
    const at = (day: number) => dunningStepsDue({ dueDate: due, today: addDays(due, day), taken: new Set() }, later).map((a) => `${a.step}:${a.feeCents}`);
    expect(at(11)).toEqual(['reminder_1:0']);
    expect(at(12)).toEqual(['reminder_1:0', 'reminder_2:1000']);
    expect(at(19)).toHaveLength(2);
    expect(at(20)).toHaveLength(3);
    expect(suspensionDue({ today: addDays(due, 29), overdue: [inv], depositCents: 0 }, later)).toBeNull();
    expect(suspensionDue({ today: addDays(due, 30), overdue: [inv], depositCents: 0 }, later)).toMatchObject({ clause: '9.1a' });
    expect(terminationEligibleOn('2027-05-31', later)).toBe('2027-07-31');
  });

  it('refuses a field out of range, an unknown field and steps out of the contract’s order, naming the field', () => {
    expect(() => mergeDunningPolicy(DEFAULT_DUNNING_POLICY, { suspensionDay: 0 })).toThrow(expect.objectContaining({ field: '/suspensionDay' }));
    expect(() => mergeDunningPolicy(DEFAULT_DUNNING_POLICY, { reminderFeeCents: 12.5 })).toThrow(expect.objectContaining({ field: '/reminderFeeCents' }));
    expect(() => mergeDunningPolicy(DEFAULT_DUNNING_POLICY, { graceDays: 3 })).toThrow(expect.objectContaining({ field: '/graceDays' }));
    // The suspension may not come before (or on the day of) the formal notice.
    expect(() => mergeDunningPolicy(DEFAULT_DUNNING_POLICY, { suspensionDay: 15 })).toThrow(expect.objectContaining({ field: '/suspensionDay' }));
    expect(mergeDunningPolicy(DEFAULT_DUNNING_POLICY, { suspensionDay: 16 }).suspensionDay).toBe(16);
    expect(mergeDunningPolicy(DEFAULT_DUNNING_POLICY, {})).toEqual(DEFAULT_DUNNING_POLICY);
  });
});
