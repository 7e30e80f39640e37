/**
 * The default dunning policy (RULES.md "Dunning and suspension"), pure: which steps are
 * due for an overdue invoice on a given day, whether the client is to be suspended, and
 * when a suspension makes the client eligible for termination. Days after the due date:
 * D+1 reminder 1 (5.2), D+10 reminder 2 + 15.00 € fee (8.8), D+15 formal notice (9.1a),
 * D+21 suspension to minimum service (9.1a, 8.7; 9.1b with a deposit), suspended 1 month
 * → termination_eligible (12.2a). Evaluated daily at 00:00 local; a step missed (the job
 * did not run that day) is taken the next evaluation.
 */
import { addDays, addMonths, daysBetween, type LocalDate } from '../../kernel/time.ts';
import type { DunningStep } from './schema.ts';

export const REMINDER_FEE_CENTS = 1500;
export const REMINDER_1_DAY = 1;
export const REMINDER_2_DAY = 10;
export const FORMAL_NOTICE_DAY = 15;
export const SUSPENSION_DAY = 21;

export interface DunningAction {
  step: DunningStep;
  /** The event type recorded. */
  event: 'reminder' | 'formal_notice';
  clause: string;
  /** §8.8: a fee billed on the next invoice (0 when none). */
  feeCents: number;
}

const STEPS: readonly (DunningAction & { day: number })[] = [
  { step: 'reminder_1', event: 'reminder', clause: '5.2', feeCents: 0, day: REMINDER_1_DAY },
  { step: 'reminder_2', event: 'reminder', clause: '8.8', feeCents: REMINDER_FEE_CENTS, day: REMINDER_2_DAY },
  { step: 'formal_notice', event: 'formal_notice', clause: '9.1a', feeCents: 0, day: FORMAL_NOTICE_DAY },
];

/** Days late on `today` (D+n); ≤ 0 when not overdue. */
export const daysLate = (dueDate: LocalDate, today: LocalDate): number => daysBetween(dueDate, today);

/** The steps due today for an open invoice, not already taken; none when the amount is covered by a guarantee. */
export function dunningStepsDue(input: { dueDate: LocalDate; today: LocalDate; taken: ReadonlySet<DunningStep>; covered?: boolean }): DunningAction[] {
  if (input.covered) return [];
  const late = daysLate(input.dueDate, input.today);
  return STEPS.filter((s) => late >= s.day && !input.taken.has(s.step)).map(({ day: _day, ...a }) => a);
}

export interface OverdueInvoice {
  dueDate: LocalDate;
  openCents: number;
  /** At least one reminder was sent for it. */
  reminded: boolean;
  /** Part covered by a bank guarantee (§9.3). */
  coveredCents?: number;
}

/**
 * §9.1a: suspension when an invoice is more than 20 days late (D+21), at least one reminder
 * was sent and its amount is not covered by a guarantee. §9.1b: with a deposit, only when
 * the total overdue debt exceeds the deposit. Null when no suspension is due.
 */
export function suspensionDue(input: { today: LocalDate; overdue: readonly OverdueInvoice[]; depositCents: number }): { clause: '9.1a' | '9.1b'; overdueCents: number } | null {
  const uncovered = input.overdue.filter((i) => daysLate(i.dueDate, input.today) > 0 && i.openCents - (i.coveredCents ?? 0) > 0);
  const trigger = uncovered.some((i) => i.reminded && daysLate(i.dueDate, input.today) >= SUSPENSION_DAY);
  if (!trigger) return null;
  const overdueCents = uncovered.reduce((s, i) => s + i.openCents - (i.coveredCents ?? 0), 0);
  if (input.depositCents > 0) return overdueCents > input.depositCents ? { clause: '9.1b', overdueCents } : null;
  return { clause: '9.1a', overdueCents };
}

/** §12.2a: suspended for 1 month (calendar) → eligible for termination. */
export const terminationEligibleOn = (suspendedOn: LocalDate): LocalDate => addMonths(suspendedOn, 1);

/** The day of the suspension announced by the formal notice (D+21). */
export const suspensionDayOf = (dueDate: LocalDate): LocalDate => addDays(dueDate, SUSPENSION_DAY);
