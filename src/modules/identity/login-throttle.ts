/**
 * Login throttling (§4.4/§6.2 spirit, applied to the portal/API): decided from the
 * `login_failures` rows, so it holds across nodes. Pure decisions; the store is in login.ts.
 */

/** 5 failed logins for one account e-mail within 15 minutes lock it for 15 minutes (even with the right password). */
export const ACCOUNT_MAX_FAILURES = 5;
export const ACCOUNT_WINDOW_MS = 15 * 60_000;
export const ACCOUNT_LOCK_MS = 15 * 60_000;

/** 20 failed logins from one source IP within 15 minutes refuse that IP until the window slides below 20. */
export const IP_MAX_FAILURES = 20;
export const IP_WINDOW_MS = 15 * 60_000;

/** How far back the store must look for the account decision. */
export const ACCOUNT_LOOKBACK_MS = ACCOUNT_WINDOW_MS + ACCOUNT_LOCK_MS;

export const accountKey = (email: string): string => `account:${email.trim().toLowerCase()}`;
export const ipKey = (ip: string): string => `ip:${ip}`;

/**
 * `newestFirst`: the account's most recent failures (at least ACCOUNT_MAX_FAILURES when available).
 * Locked until 15 min after the failure that made 5 within 15 min; failures are not recorded
 * while locked, so the lock ends on time and a new lock needs 5 fresh failures.
 */
export function accountLockedUntil(newestFirst: readonly Date[], now: Date): Date | null {
  const newest = newestFirst[0];
  const fifth = newestFirst[ACCOUNT_MAX_FAILURES - 1];
  if (!newest || !fifth) return null;
  if (newest.getTime() - fifth.getTime() > ACCOUNT_WINDOW_MS) return null;
  const until = new Date(newest.getTime() + ACCOUNT_LOCK_MS);
  return until > now ? until : null;
}

/** `newestFirst`: the IP's failures within the last IP_WINDOW_MS. Refused until the 20th newest leaves the window. */
export function ipRefusedUntil(newestFirst: readonly Date[], now: Date): Date | null {
  const oldestCounted = newestFirst[IP_MAX_FAILURES - 1];
  if (!oldestCounted) return null;
  const until = new Date(oldestCounted.getTime() + IP_WINDOW_MS);
  return until > now ? until : null;
}
