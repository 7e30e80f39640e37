/**
 * The CDR lifecycle (issue #4 "written so none is ever lost"): a row is opened at the
 * INVITE (`ended_at` null), marked answered at the 2xx and closed at the end with who
 * hung up and why. At start-up, rows a crash left open are closed (`crash_recovery`).
 * Rating only reads closed rows (src/modules/rating).
 */
import { and, eq, isNull, lt } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { newId } from '../kernel/ids.ts';
import { cdrs } from './cdr-schema.ts';

export type CdrInput = Omit<typeof cdrs.$inferInsert, 'id' | 'ratedAt' | 'zone' | 'packSeconds' | 'costCents' | 'invoiceId'>;

export type HangupBy = 'caller' | 'callee' | 'system';

/**
 * Why a call ended: `bye` (a party hung up), `cancel` (the caller gave up while it
 * rang), `rejected` (the callee or the trunk answered a failure), `no_answer` (ring
 * timeout), `refused` (the call policy), `unavailable` (no binding / no route),
 * `max_duration` (E2P_SIP_MAX_CALL_SECONDS), `crash_recovery` (closed at start-up).
 */
export type CdrEndReason = 'bye' | 'cancel' | 'rejected' | 'no_answer' | 'refused' | 'unavailable' | 'max_duration' | 'crash_recovery';

/**
 * Writes one call detail record; returns its id. A record without `endedAt` is a
 * finished call ending `billableSeconds` after its answer (or start); pass
 * `endedAt: null` for an open one (`openCdr`).
 */
export async function recordCdr(db: DbOrTx, cdr: CdrInput): Promise<string> {
  const id = newId(cdr.startedAt);
  const endedAt =
    cdr.endedAt !== undefined ? cdr.endedAt : new Date((cdr.answeredAt ?? cdr.startedAt).getTime() + (cdr.billableSeconds ?? 0) * 1000);
  await db.insert(cdrs).values({ ...cdr, endedAt, id });
  return id;
}

/** Opens the record of a call in progress (ended_at null, status 100 until it ends). */
export function openCdr(db: DbOrTx, cdr: Omit<CdrInput, 'endedAt' | 'answeredAt' | 'billableSeconds' | 'sipStatus' | 'hangupBy' | 'endReason'>): Promise<string> {
  return recordCdr(db, { ...cdr, sipStatus: 100, endedAt: null, answeredAt: null, billableSeconds: 0 });
}

export async function answerCdr(db: DbOrTx, id: string, answeredAt: Date): Promise<void> {
  await db.update(cdrs).set({ answeredAt, sipStatus: 200 }).where(and(eq(cdrs.id, id), isNull(cdrs.endedAt)));
}

export interface CdrEnd {
  readonly endedAt: Date;
  readonly answeredAt: Date | null;
  /** The final status of the call (200 when it was answered). */
  readonly sipStatus: number;
  readonly hangupBy: HangupBy;
  readonly endReason: CdrEndReason;
}

/** §8.3: billable seconds = ceil(answer → end), 0 when unanswered. */
export const billableSeconds = (answeredAt: Date | null, endedAt: Date): number =>
  answeredAt === null ? 0 : Math.max(0, Math.ceil((endedAt.getTime() - answeredAt.getTime()) / 1000));

/** The columns a closed record gets (§8.3 billable seconds). */
export const closedCdrFields = (end: CdrEnd) => ({
  endedAt: end.endedAt,
  answeredAt: end.answeredAt,
  sipStatus: end.sipStatus,
  billableSeconds: billableSeconds(end.answeredAt, end.endedAt),
  hangupBy: end.hangupBy,
  endReason: end.endReason,
});

/** Closes an open record (a closed one is left as it is). */
export async function closeCdr(db: DbOrTx, id: string, end: CdrEnd): Promise<void> {
  await db
    .update(cdrs)
    .set(closedCdrFields(end))
    .where(and(eq(cdrs.id, id), isNull(cdrs.endedAt)));
}

export interface RecoveredCdr {
  readonly id: string;
  readonly callId: string | null;
  readonly admission: string | null;
}

/**
 * Closes the records of `sipNode` still open (calls a crash interrupted, or older than
 * `startedBefore`): ended at `at` with reason `reason`, by `system`. The end of such a
 * call is unknown: it is closed with no billable seconds (the customer is not billed
 * for time nobody can prove), its answer kept for the record. Returns what was closed.
 */
export async function closeOpenCdrs(
  db: DbOrTx,
  o: { sipNode: string; at: Date; reason: 'crash_recovery' | 'max_duration'; startedBefore?: Date; except?: ReadonlySet<string> },
): Promise<RecoveredCdr[]> {
  const open = await db
    .select({ id: cdrs.id, callId: cdrs.callId, admission: cdrs.admission, answeredAt: cdrs.answeredAt })
    .from(cdrs)
    .where(and(eq(cdrs.sipNode, o.sipNode), isNull(cdrs.endedAt), ...(o.startedBefore === undefined ? [] : [lt(cdrs.startedAt, o.startedBefore)])));
  const closed: RecoveredCdr[] = [];
  for (const row of open) {
    if (o.except?.has(row.id) === true) continue;
    await db
      .update(cdrs)
      .set({ endedAt: o.at, sipStatus: row.answeredAt === null ? 500 : 200, billableSeconds: 0, hangupBy: 'system', endReason: o.reason })
      .where(and(eq(cdrs.id, row.id), isNull(cdrs.endedAt)));
    closed.push({ id: row.id, callId: row.callId, admission: row.admission });
  }
  return closed;
}
