/**
 * §4.3b/§4.10 live limits, the pure arithmetic: defaults of RULES.md, the sliding
 * windows and the spend of calls at their tariff (integers only: µ€, bigint products).
 */
import { toSafeInteger } from '../../kernel/money.ts';

/** RULES.md §4.3b defaults (policy settings). */
export const DEFAULT_LIMITS = {
  /** Concurrent outbound calls ≤ 2 × users, at least 4. */
  concurrentPerUser: 2,
  concurrentMin: 4,
  /** Call attempts per user per minute. */
  attemptsPerUserPerMinute: 20,
  /** International + premium spend per client per hour, cents (50 €). */
  spendLimitCentsPerHour: 5000,
} as const;

/** Sliding windows (§4.3b): attempts per minute, spend per hour. */
export const ATTEMPT_WINDOW_MS = 60_000;
export const SPEND_WINDOW_MS = 3_600_000;
/** The maximum call duration: an admission older than this counts as ended (a lost `ended`). */
export const MAX_CALL_MS = 4 * 3_600_000;

/** 1 cent = 10 000 µ€. */
export const MICROS_PER_CENT = 10_000;

/** §4.3b default: max(4, 2 × users). */
export const defaultMaxConcurrent = (users: number): number =>
  Math.max(DEFAULT_LIMITS.concurrentMin, DEFAULT_LIMITS.concurrentPerUser * users);

export interface SpendCall {
  readonly answeredAt: Date | null;
  /** null: still live (counted up to `now`). */
  readonly endedAt: Date | null;
  readonly perMinuteMicros: number;
}

/**
 * µ€ spent by one call inside [from, now]: its answered seconds inside the window (whole
 * seconds, rounded up as billing does, §8.3) × the per-minute rate ÷ 60, rounded up to
 * the µ€. Unanswered calls spend nothing.
 */
export function callSpendMicros(c: SpendCall, from: Date, now: Date): number {
  if (c.answeredAt === null) return 0;
  const start = Math.max(c.answeredAt.getTime(), from.getTime());
  const end = Math.min(c.endedAt?.getTime() ?? now.getTime(), now.getTime());
  if (end <= start) return 0;
  const seconds = BigInt(Math.ceil((end - start) / 1000));
  const product = seconds * BigInt(c.perMinuteMicros);
  return toSafeInteger((product + 59n) / 60n, 'spend µ€');
}

/** The spend of `calls` in the sliding window ending at `now` (µ€). */
export function spendMicros(calls: readonly SpendCall[], from: Date, now: Date): number {
  let total = 0n;
  for (const c of calls) total += BigInt(callSpendMicros(c, from, now));
  return toSafeInteger(total, 'spend µ€');
}
