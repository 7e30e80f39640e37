import { describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { assertNonRenewalInTime, groundClause, nonRenewalDeadline, planTermination, renewsOn, termEnd } from './term-dates.ts';

const refusal = (f: () => unknown): { code: string; clause: string | null } | null => {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, clause: e.clause };
    throw e;
  }
};

describe('term dates (§11)', () => {
  it('minimum term end: start + N months − 1 day, leap year', () => {
    expect(termEnd('2027-03-01', 60)).toBe('2032-02-29');
    expect(termEnd('2027-01-15', 60)).toBe('2032-01-14');
    expect(termEnd('2027-01-31', 1)).toBe('2027-02-27');
  });

  it('non-renewal deadline = (day after term end) − 3 months', () => {
    expect(nonRenewalDeadline('2032-02-29')).toBe('2031-12-01');
    expect(nonRenewalDeadline('2032-01-14')).toBe('2031-10-15');
  });

  it('non-renewal accepted on the deadline, refused the day after (11.4)', () => {
    expect(refusal(() => assertNonRenewalInTime('2031-12-01', '2032-02-29'))).toBeNull();
    expect(refusal(() => assertNonRenewalInTime('2031-11-30', '2032-02-29'))).toBeNull();
    expect(refusal(() => assertNonRenewalInTime('2031-12-02', '2032-02-29'))).toEqual({ code: 'NOTICE_TOO_LATE', clause: '11.4' });
  });

  it('renews on the day after the term end', () => {
    expect(renewsOn('2032-02-29')).toBe('2032-03-01');
  });

  it('ground clauses', () => {
    expect(groundClause('early')).toBe('11.2');
    expect(groundClause('notice')).toBe('11.4');
    expect(groundClause('12.2a')).toBe('12.2a');
  });

  it('termination with notice: +3 months, indefinite contracts only', () => {
    expect(planTermination({ ground: 'notice', state: 'indefinite', today: '2028-02-10' })).toEqual({
      kind: 'scheduled',
      endDate: '2028-05-10',
      clause: '11.4',
    });
    expect(refusal(() => planTermination({ ground: 'notice', state: 'active', today: '2028-02-10' }))?.clause).toBe('11.4');
  });

  it('immediate termination unless a future effective date is given', () => {
    expect(planTermination({ ground: 'early', state: 'active', today: '2028-02-10' })).toEqual({ kind: 'immediate', endDate: '2028-02-10', clause: '11.2' });
    expect(planTermination({ ground: '12.1', state: 'active', today: '2028-02-10', effective: '2028-02-10' }).kind).toBe('immediate');
    expect(planTermination({ ground: '18', state: 'active', today: '2028-02-10', effective: '2028-03-01' })).toEqual({
      kind: 'scheduled',
      endDate: '2028-03-01',
      clause: '18',
    });
  });
});
