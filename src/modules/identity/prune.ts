import { lt, or } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { ACCOUNT_LOOKBACK_MS, IP_WINDOW_MS } from './login-throttle.ts';
import { sessions, loginFailures } from './schema.ts';
import { SESSION_IDLE_MS } from './session-policy.ts';

/**
 * Housekeeping for a daily (or hourly) scheduler job: deletes ended sessions and login
 * failures too old to matter to any throttling decision. Idempotent; safe on several nodes.
 */
export async function pruneAuthState(ctx: AppContext): Promise<{ sessions: number; loginFailures: number }> {
  const now = ctx.clock.now().getTime();
  const failureHorizon = new Date(now - Math.max(ACCOUNT_LOOKBACK_MS, IP_WINDOW_MS));
  const ended = await ctx.db
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, new Date(now)), lt(sessions.lastSeenAt, new Date(now - SESSION_IDLE_MS))))
    .returning({ id: sessions.id });
  const failures = await ctx.db.delete(loginFailures).where(lt(loginFailures.at, failureHorizon)).returning({ id: loginFailures.id });
  return { sessions: ended.length, loginFailures: failures.length };
}
