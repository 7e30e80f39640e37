import { localDate, quarterStart, startOfLocalDay } from '../../kernel/time.ts';

/**
 * §8.5 decreases: during a calendar quarter (Europe/Brussels) the number of users may not
 * fall below `N0 − floor(10 % × N0)`, N0 being the number of users at the quarter's start
 * (00:00 on 1 Jan / 1 Apr / 1 Jul / 1 Oct). Users added during the quarter can therefore
 * be removed again. Staff may override with a recorded reason (checked by the caller).
 */
export const REDUCTION_PERCENT = 10;

/** The lowest user count allowed during the quarter whose start count is `usersAtQuarterStart`. */
export function userFloor(usersAtQuarterStart: number): number {
  if (!Number.isSafeInteger(usersAtQuarterStart) || usersAtQuarterStart < 0) {
    throw new RangeError(`user count must be a non-negative integer, got ${usersAtQuarterStart}`);
  }
  return usersAtQuarterStart - Math.floor((usersAtQuarterStart * REDUCTION_PERCENT) / 100);
}

/** 00:00 Brussels on the first day of the calendar quarter containing `at`. */
export const quarterStartInstant = (at: Date): Date => startOfLocalDay(quarterStart(localDate(at)));

export interface ReductionInput {
  /** N0: users existing at the quarter's start instant. */
  usersAtQuarterStart: number;
  /** Users existing now, before the deletion. */
  currentUsers: number;
  /** How many users the deletion removes. */
  removing: number;
}

export type ReductionDecision =
  | { allowed: true; floor: number; after: number }
  | { allowed: false; floor: number; after: number; clause: '8.5'; code: 'USER_REDUCTION_LIMIT' };

/** §8.5: may `removing` users be deleted now? */
export function decideUserReduction(input: ReductionInput): ReductionDecision {
  const floor = userFloor(input.usersAtQuarterStart);
  const after = input.currentUsers - input.removing;
  if (after >= floor) return { allowed: true, floor, after };
  return { allowed: false, floor, after, clause: '8.5', code: 'USER_REDUCTION_LIMIT' };
}
