/**
 * The dunning policy (RULES.md "Dunning and suspension") as data, and its pure rules:
 * which steps are due for an overdue invoice on a given day, whether the client is to be
 * suspended, and when a suspension makes the client eligible for termination. Defaults,
 * in days after the due date: D+1 reminder 1 (5.2), D+10 reminder 2 + 15.00 € fee (8.8),
 * D+15 formal notice (9.1a), D+21 suspension to minimum service (9.1a, 8.7; 9.1b with a
 * deposit), suspended 1 month → termination_eligible (12.2a). The operator may change the
 * numbers (setting `payments.dunningPolicy`, dunning-settings.ts); the steps, their order
 * and their clauses are the contract's. Evaluated daily at 00:00 local; a step missed (the
 * job did not run that day) is taken the next evaluation.
 */
import { validationError } from '../../kernel/errors.ts';
import { addDays, addMonths, daysBetween, type LocalDate } from '../../kernel/time.ts';
import type { DunningStep } from './schema.ts';

export interface DunningPolicy {
  /** D+n of reminder 1 (§5.2). */
  reminder1Day: number;
  /** D+n of reminder 2 with its fee (§8.8). */
  reminder2Day: number;
  /** D+n of the formal notice (§9.1a). */
  formalNoticeDay: number;
  /** D+n of the suspension to minimum service (§9.1a: "more than 20 days"). */
  suspensionDay: number;
  /** §8.8 fee of reminder 2, cents (VAT category O). */
  reminderFeeCents: number;
  /** §12.2a: calendar months in minimum service before the client is eligible for termination. */
  terminationEligibleMonths: number;
}

export const DEFAULT_DUNNING_POLICY: Readonly<DunningPolicy> = Object.freeze({
  reminder1Day: 1,
  reminder2Day: 10,
  formalNoticeDay: 15,
  suspensionDay: 21,
  reminderFeeCents: 1500,
  terminationEligibleMonths: 1,
});

const LIMITS: Record<keyof DunningPolicy, [number, number]> = {
  reminder1Day: [1, 365],
  reminder2Day: [1, 365],
  formalNoticeDay: [1, 365],
  suspensionDay: [1, 365],
  reminderFeeCents: [0, 100_000],
  terminationEligibleMonths: [1, 24],
};

/**
 * `changes` over `base`, checked: whole numbers in range, and the steps in the contract's
 * order (reminder 1 < reminder 2 < formal notice < suspension: §9.1a suspends only after a
 * reminder and the formal notice). Throws a validation error naming the field.
 */
export function mergeDunningPolicy(base: Readonly<DunningPolicy>, changes: Readonly<Record<string, unknown>>): DunningPolicy {
  const out: DunningPolicy = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (!(key in LIMITS)) throw validationError(`/${key}`, `not a dunning policy field (${Object.keys(LIMITS).join(', ')})`);
    const k = key as keyof DunningPolicy;
    const [min, max] = LIMITS[k];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw validationError(`/${key}`, `a whole number from ${min} to ${max}`);
    out[k] = value;
  }
  const order = ['reminder1Day', 'reminder2Day', 'formalNoticeDay', 'suspensionDay'] as const;
  for (let i = 1; i < order.length; i++) {
    if (out[order[i]!] <= out[order[i - 1]!]) throw validationError(`/${order[i]!}`, `must come after ${order[i - 1]!} (${out[order[i - 1]!]}): the steps keep the contract's order (§9.1a)`);
  }
  return out;
}

export interface DunningAction {
  step: DunningStep;
  /** The event type recorded. */
  event: 'reminder' | 'formal_notice';
  clause: string;
  /** §8.8: a fee billed on the next invoice (0 when none). */
  feeCents: number;
}

const steps = (p: Readonly<DunningPolicy>): readonly (DunningAction & { day: number })[] => [
  { step: 'reminder_1', event: 'reminder', clause: '5.2', feeCents: 0, day: p.reminder1Day },
  { step: 'reminder_2', event: 'reminder', clause: '8.8', feeCents: p.reminderFeeCents, day: p.reminder2Day },
  { step: 'formal_notice', event: 'formal_notice', clause: '9.1a', feeCents: 0, day: p.formalNoticeDay },
];

/** Days late on `today` (D+n); ≤ 0 when not overdue. */
export const daysLate = (dueDate: LocalDate, today: LocalDate): number => daysBetween(dueDate, today);

/** The steps due today for an open invoice, not already taken; none when the amount is covered by a guarantee. */
export function dunningStepsDue(
  input: { dueDate: LocalDate; today: LocalDate; taken: ReadonlySet<DunningStep>; covered?: boolean },
  policy: Readonly<DunningPolicy> = DEFAULT_DUNNING_POLICY,
): DunningAction[] {
  if (input.covered) return [];
  const late = daysLate(input.dueDate, input.today);
  return steps(policy).filter((s) => late >= s.day && !input.taken.has(s.step)).map(({ day: _day, ...a }) => a);
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
export function suspensionDue(
  input: { today: LocalDate; overdue: readonly OverdueInvoice[]; depositCents: number },
  policy: Readonly<DunningPolicy> = DEFAULT_DUNNING_POLICY,
): { clause: '9.1a' | '9.1b'; overdueCents: number } | null {
  const uncovered = input.overdue.filter((i) => daysLate(i.dueDate, input.today) > 0 && i.openCents - (i.coveredCents ?? 0) > 0);
  const trigger = uncovered.some((i) => i.reminded && daysLate(i.dueDate, input.today) >= policy.suspensionDay);
  if (!trigger) return null;
  const overdueCents = uncovered.reduce((s, i) => s + i.openCents - (i.coveredCents ?? 0), 0);
  if (input.depositCents > 0) return overdueCents > input.depositCents ? { clause: '9.1b', overdueCents } : null;
  return { clause: '9.1a', overdueCents };
}

/** §12.2a: suspended for 1 month (calendar) → eligible for termination. */
export const terminationEligibleOn = (suspendedOn: LocalDate, policy: Readonly<DunningPolicy> = DEFAULT_DUNNING_POLICY): LocalDate =>
  addMonths(suspendedOn, policy.terminationEligibleMonths);

/** The day of the suspension announced by the formal notice (D+21). */
export const suspensionDayOf = (dueDate: LocalDate, policy: Readonly<DunningPolicy> = DEFAULT_DUNNING_POLICY): LocalDate => addDays(dueDate, policy.suspensionDay);
