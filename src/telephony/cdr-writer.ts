/**
 * Group commit of the CDR writes of the call path (issue #4 "Performance"; the CDR
 * lifecycle of `cdrs.ts` unchanged: opened at the INVITE, answered at the 2xx, closed
 * at the end, never lost). Every write joins the next batch and its caller awaits that
 * batch's commit, so durability is what it was with one statement per write: a call
 * whose open CDR is not committed does not ring. A batch is one statement, whatever its
 * size: the INSERT of all the new rows and the UPDATE of all the answers and ends (either
 * alone, or both in one statement: `WRITE_CDRS`), a fixed text over the batch as JSON
 * parameters, run as a named prepared statement (nothing built per batch, parsed once per
 * connection, planned again as `cdrs` grows: `queryRows`).
 * While a batch is in flight the next one fills up: under load, hundreds of calls share
 * one round trip; when idle a write goes out at once (after the current I/O callbacks).
 * A failing batch is retried row by row, so a bad row fails only its own caller.
 */
import type { Db } from '../db/client.ts';
import { queryRows } from '../db/prepared.ts';
import { newId } from '../kernel/ids.ts';
import { type CdrEnd, type CdrInput, closedCdrFields } from './cdrs.ts';

/** A row as written: every column of `cdrs` the call path sets. */
interface Row {
  readonly id: string;
  readonly cdr: CdrInput;
  readonly endedAt: Date | null;
}

/** An answer (`endedAt` null) or an end; the later one for a row replaces the earlier in a batch. */
interface Change {
  readonly endedAt: Date | null;
  readonly answeredAt: Date | null;
  readonly sipStatus: number;
  readonly billableSeconds: number;
  readonly hangupBy: string | null;
  readonly endReason: string | null;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/** Rows per statement at most (arrays of that size; a larger queue goes in several batches). */
export const CDR_BATCH_MAX = 1000;

/**
 * The batch's new rows as one JSON parameter (a fixed text: a named prepared statement,
 * nothing built per batch). JSON rather than a parameter array per column: pg writes an
 * array literal element by element (two regular expressions and a concatenation each),
 * ≈ 3 % of the bytes a call allocated in bench:sip; `JSON.stringify` is native. The
 * record's columns are listed in the INSERT's order.
 */
const INSERT_CDRS = `
  INSERT INTO cdrs (id, client_id, user_id, call_id, direction, from_extension, dialled, destination, caller_id,
    caller_id_replaced, emergency, allowed, clause, sip_status, started_at, answered_at, ended_at, billable_seconds,
    hangup_by, end_reason, admission, sip_node)
  SELECT * FROM json_to_recordset($1::json) AS r(id uuid, client_id uuid, user_id uuid, call_id text, direction text, from_extension text,
    dialled text, destination text, caller_id text, caller_id_replaced boolean, emergency boolean, allowed boolean, clause text,
    sip_status int, started_at timestamptz, answered_at timestamptz, ended_at timestamptz, billable_seconds int,
    hangup_by text, end_reason text, admission text, sip_node text)`;

/**
 * The batch's answers and ends, the same way (a closed record is left as it is). The open
 * test is written `(ended_at IS NULL) IS TRUE` — the same rows — so that it does not match the
 * predicate of `cdrs_open_idx` (`WHERE ended_at IS NULL`): with `ended_at IS NULL` the planner
 * took that index for every batch (BitmapAnd or hash join over every entry it holds: the open
 * CDRs and every closed one since the last VACUUM, a closed row's old version staying in it),
 * 31 803 entries and 1 265 heap pages read for a batch of 40 after 23 000 calls in
 * sip-call-cpu, 4.6 ms instead of 0.8 ms; now one probe of the primary key per id (exported
 * for the plan test).
 */
export const UPDATE_CDRS = `
  UPDATE cdrs SET ended_at = v.ended_at, answered_at = v.answered_at, sip_status = v.sip_status,
    billable_seconds = v.billable_seconds, hangup_by = v.hangup_by, end_reason = v.end_reason
  FROM json_to_recordset($1::json)
    AS v(id uuid, ended_at timestamptz, answered_at timestamptz, sip_status int, billable_seconds int, hangup_by text, end_reason text)
  WHERE cdrs.id = v.id AND (cdrs.ended_at IS NULL) IS TRUE`;

/**
 * A batch holding both new rows and changes, in ONE statement: one round trip and one commit
 * instead of two (issue #4).
 * Its two parts share one snapshot, so the UPDATE does not see the rows the INSERT adds — and
 * needs not: a change names a row whose open was committed before (`open` hands its id out
 * only then), never one of the same batch.
 */
export const WRITE_CDRS = `
  WITH opened AS (${INSERT_CDRS}
  ), changed AS (${UPDATE_CDRS.replace('$1::json', '$2::json')}
  )
  SELECT 1`;

const iso = (d: Date | null | undefined): string | null => (d === null || d === undefined ? null : d.toISOString());

export class CdrWriter {
  private inserts: { row: Row; waiter: Waiter }[] = [];
  private changes = new Map<string, { change: Change; waiters: Waiter[] }>();
  private running: Promise<void> | undefined;

  constructor(private readonly db: Db) {}

  /** Writes the record of a call in progress (`ended_at` null, status 100); resolves with its id once committed. */
  open(cdr: Omit<CdrInput, 'endedAt' | 'answeredAt' | 'billableSeconds' | 'sipStatus' | 'hangupBy' | 'endReason'>): Promise<string> {
    return this.insert({ ...cdr, sipStatus: 100, answeredAt: null, billableSeconds: 0 }, null);
  }

  /** Writes a finished record (a refusal, an unroutable call); resolves with its id once committed. */
  record(cdr: CdrInput & { endedAt: Date }): Promise<string> {
    return this.insert(cdr, cdr.endedAt);
  }

  /** Marks an open record answered (a closed one is left as it is). */
  answer(id: string, answeredAt: Date): Promise<void> {
    return this.change(id, { endedAt: null, answeredAt, sipStatus: 200, billableSeconds: 0, hangupBy: null, endReason: null });
  }

  /** Closes an open record (a closed one is left as it is); §8.3 billable seconds. */
  close(id: string, end: CdrEnd): Promise<void> {
    return this.change(id, closedCdrFields(end));
  }

  private insert(cdr: CdrInput, endedAt: Date | null): Promise<string> {
    const id = newId(cdr.startedAt);
    return new Promise<void>((resolve, reject) => {
      this.inserts.push({ row: { id, cdr, endedAt }, waiter: { resolve, reject } });
      this.schedule();
    }).then(() => id);
  }

  private change(id: string, change: Change): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queued = this.changes.get(id);
      // The end of a call carries its answer: it supersedes an answer still waiting in the batch.
      if (queued === undefined) this.changes.set(id, { change, waiters: [{ resolve, reject }] });
      else this.changes.set(id, { change, waiters: [...queued.waiters, { resolve, reject }] });
      this.schedule();
    });
  }

  private schedule(): void {
    this.running ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
  }

  /** Batch after batch until nothing is queued: inserts first (an answer never precedes its open). */
  private async drain(): Promise<void> {
    try {
      while (this.inserts.length > 0 || this.changes.size > 0) {
        const inserts = this.inserts.splice(0, CDR_BATCH_MAX);
        const changes: [string, { change: Change; waiters: Waiter[] }][] = [];
        for (const entry of this.changes) {
          if (changes.length >= CDR_BATCH_MAX) break;
          changes.push(entry);
        }
        for (const [id] of changes) this.changes.delete(id);
        if (inserts.length > 0 && changes.length > 0 && (await this.writeBoth(inserts, changes))) continue;
        if (inserts.length > 0) await this.settle(inserts.map((i) => ({ item: i.row, waiters: [i.waiter] })), (rows) => this.insertRows(rows));
        if (changes.length > 0) await this.settle(changes.map(([id, c]) => ({ item: [id, c.change] as const, waiters: c.waiters })), (rows) => this.applyChanges(rows));
      }
    } finally {
      this.running = undefined;
    }
  }

  /** One statement for the batch; when it fails, one per item so that only the bad ones fail. */
  private async settle<T>(batch: { item: T; waiters: Waiter[] }[], run: (items: readonly T[]) => Promise<void>): Promise<void> {
    try {
      await run(batch.map((b) => b.item));
      for (const b of batch) for (const w of b.waiters) w.resolve();
      return;
    } catch (e) {
      if (batch.length === 1) {
        for (const w of batch[0]!.waiters) w.reject(e);
        return;
      }
    }
    for (const b of batch) await this.settle([b], run);
  }

  /**
   * New rows and changes in one statement (`WRITE_CDRS`); true when it committed and every
   * waiter is resolved. False when it failed: nothing of it was written, and the caller
   * settles the two parts on their own (then row by row), so that only a bad row fails.
   */
  private async writeBoth(inserts: readonly { row: Row; waiter: Waiter }[], changes: readonly [string, { change: Change; waiters: Waiter[] }][]): Promise<boolean> {
    try {
      await queryRows(this.db, 'e2p_cdrs_write', WRITE_CDRS, [insertJson(inserts.map((i) => i.row)), changeJson(changes.map(([id, c]) => [id, c.change] as const))]);
    } catch {
      return false;
    }
    for (const i of inserts) i.waiter.resolve();
    for (const [, c] of changes) for (const w of c.waiters) w.resolve();
    return true;
  }

  private async insertRows(rows: readonly Row[]): Promise<void> {
    await queryRows(this.db, 'e2p_cdrs_open', INSERT_CDRS, [insertJson(rows)]);
  }

  private async applyChanges(rows: readonly (readonly [string, Change])[]): Promise<void> {
    await queryRows(this.db, 'e2p_cdrs_change', UPDATE_CDRS, [changeJson(rows)]);
  }
}

/** New rows as the JSON parameter of `INSERT_CDRS`. */
function insertJson(rows: readonly Row[]): string {
  return JSON.stringify(
    rows.map(({ id, cdr: c, endedAt }) => ({
      id,
      client_id: c.clientId,
      user_id: c.userId ?? null,
      call_id: c.callId ?? null,
      direction: c.direction,
      from_extension: c.fromExtension ?? null,
      dialled: c.dialled,
      destination: c.destination,
      caller_id: c.callerId ?? null,
      caller_id_replaced: c.callerIdReplaced ?? false,
      emergency: c.emergency ?? false,
      allowed: c.allowed,
      clause: c.clause ?? null,
      sip_status: c.sipStatus,
      started_at: iso(c.startedAt),
      answered_at: iso(c.answeredAt),
      ended_at: iso(endedAt),
      billable_seconds: c.billableSeconds ?? 0,
      hangup_by: c.hangupBy ?? null,
      end_reason: c.endReason ?? null,
      admission: c.admission ?? null,
      sip_node: c.sipNode ?? null,
    })),
  );
}

/** Answers and ends as the JSON parameter of `UPDATE_CDRS`. */
function changeJson(rows: readonly (readonly [string, Change])[]): string {
  return JSON.stringify(
    rows.map(([id, c]) => ({
      id,
      ended_at: iso(c.endedAt),
      answered_at: iso(c.answeredAt),
      sip_status: c.sipStatus,
      billable_seconds: c.billableSeconds,
      hangup_by: c.hangupBy,
      end_reason: c.endReason,
    })),
  );
}
