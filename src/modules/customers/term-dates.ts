/**
 * Term, renewal and termination dates (§11, §12, §13; RULES.md "Precise definitions").
 * Pure functions: local dates in, decision out, with the clause.
 */
import { RuleViolation } from '../../kernel/errors.ts';
import { addDays, addMonths, minimumTermEnd, type LocalDate } from '../../kernel/time.ts';

/** §11.1: default minimum term, in months. */
export const DEFAULT_MINIMUM_MONTHS = 60;
/** §11.4: non-renewal notice and the notice period of an indefinite contract, in months. */
export const NOTICE_MONTHS = 3;

/** §11.1: start + N months − 1 day (2027-03-01 + 60 months − 1 day = 2032-02-29). */
export const termEnd = (serviceStart: LocalDate, months: number): LocalDate => minimumTermEnd(serviceStart, months);

/** §11.4: the last day a non-renewal notice is accepted: (the day after the term ends) − 3 months. */
export const nonRenewalDeadline = (termEndDate: LocalDate, noticeMonths = NOTICE_MONTHS): LocalDate =>
  addMonths(addDays(termEndDate, 1), -noticeMonths);

/** §11.4: throws NOTICE_TOO_LATE unless `noticeDate` is on or before the deadline. */
export function assertNonRenewalInTime(noticeDate: LocalDate, termEndDate: LocalDate, noticeMonths = NOTICE_MONTHS): void {
  const deadline = nonRenewalDeadline(termEndDate, noticeMonths);
  if (noticeDate > deadline) {
    throw new RuleViolation(
      'NOTICE_TOO_LATE',
      '11.4',
      `A non-renewal notice must be received on or before ${deadline} (3 months before the day after the term ends, ${termEndDate}); received ${noticeDate}`,
      { deadline, minimumTermEnd: termEndDate },
    );
  }
}

/** §11.4: the contract renews tacitly on the day after the term ends (job at 00:00). */
export const renewsOn = (termEndDate: LocalDate): LocalDate => addDays(termEndDate, 1);

export const TERMINATION_GROUNDS = ['early', 'notice', '12.1', '12.2a', '12.3a', '15.2', '18'] as const;
export type TerminationGround = (typeof TERMINATION_GROUNDS)[number];

/** The clause of a termination ground (RULES.md "Event clauses"). */
export function groundClause(ground: TerminationGround): string {
  switch (ground) {
    case 'early':
      return '11.2';
    case 'notice':
      return '11.4';
    default:
      return ground;
  }
}

export type TerminationPlan =
  /** Service stops at the instant the termination is recorded; endDate = that local date. */
  | { kind: 'immediate'; endDate: LocalDate; clause: string }
  /** Service stops at 00:00 after endDate (the daily job). */
  | { kind: 'scheduled'; endDate: LocalDate; clause: string };

/**
 * §11.4 / §12 / RULES.md "Every termination": with notice (indefinite contracts only),
 * endDate = notice date + 3 months; otherwise the effective date given, else the day the
 * letter is recorded (immediate). An effective date on or before today is immediate.
 */
export function planTermination(input: {
  ground: TerminationGround;
  state: string;
  today: LocalDate;
  effective?: LocalDate | undefined;
  noticeMonths?: number;
}): TerminationPlan {
  const clause = groundClause(input.ground);
  if (input.ground === 'notice') {
    if (input.state !== 'indefinite') {
      throw new RuleViolation(
        'NOTICE_NOT_APPLICABLE',
        '11.4',
        'Termination with notice applies to a contract renewed for an indefinite term; during the minimum term send a non-renewal notice or terminate early (11.2)',
      );
    }
    return { kind: 'scheduled', endDate: addMonths(input.today, input.noticeMonths ?? NOTICE_MONTHS), clause };
  }
  if (input.effective === undefined || input.effective <= input.today) return { kind: 'immediate', endDate: input.today, clause };
  return { kind: 'scheduled', endDate: input.effective, clause };
}
