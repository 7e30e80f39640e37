/** A session lives at most 12 hours after login… */
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;
/** …and ends after 30 minutes without a request. */
export const SESSION_IDLE_MS = 30 * 60_000;
/** last_seen_at / last_used_at are written at most once a minute per session or token. */
export const TOUCH_INTERVAL_MS = 60_000;

export function sessionExpired(s: { expiresAt: Date; lastSeenAt: Date }, now: Date): boolean {
  return now.getTime() >= s.expiresAt.getTime() || now.getTime() - s.lastSeenAt.getTime() >= SESSION_IDLE_MS;
}
