/**
 * `policy_decisions` retention (issue #7): RULES.md sets no period for call decisions (an
 * open question of the seed, docs/operator-guide.md); the platform keeps them
 * E2P_POLICY_RETENTION_DAYS (90) days after the call ended — refused decisions, which never
 * end, from their instant; an admission never reported ended from the maximum call duration
 * (§4.10). A decision named by a security alert (§9.2) is kept with the alert.
 * Deleted in batches so that no long lock stalls the decisions being written.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { MAX_CALL_MS } from './limits.ts';

const BATCH = 5000;
export const DAY_MS = 86_400_000;

/** Deletes the decisions over `retentionDays` at `at`; returns how many. */
export async function purgeDecisions(db: Db, at: Date, retentionDays: number): Promise<number> {
  const cutoff = new Date(at.getTime() - retentionDays * DAY_MS).toISOString();
  const unended = new Date(at.getTime() - retentionDays * DAY_MS - MAX_CALL_MS).toISOString();
  let total = 0;
  for (;;) {
    const result = (await db.execute(sql`
      DELETE FROM policy_decisions WHERE id IN (
        SELECT d.id FROM policy_decisions d
        WHERE (d.ended_at < ${cutoff}::timestamptz
            OR (NOT d.allowed AND d.started_at < ${cutoff}::timestamptz)
            OR (d.ended_at IS NULL AND d.started_at < ${unended}::timestamptz))
          AND NOT EXISTS (SELECT 1 FROM security_alerts a WHERE a.decision_id = d.id)
        LIMIT ${BATCH})`)) as { affectedRows?: number; rowCount?: number | null };
    const n = result.affectedRows ?? result.rowCount ?? 0;
    total += n;
    if (n < BATCH) return total;
  }
}
