/**
 * Group commit of the CDR writes of the call path (issue #4 "Performance"; the CDR
 * lifecycle of `cdrs.ts` unchanged: opened at the INVITE, answered at the 2xx, closed
 * at the end, never lost). Every write joins the next batch and its caller awaits that
 * batch's commit, so durability is what it was with one statement per write: a call
 * whose open CDR is not committed does not ring. A batch is at most two statements,
 * whatever its size: one INSERT of all the new rows and one UPDATE of all the answers
 * and ends, each a fixed text over `unnest` of arrays run as a named prepared statement
 * (nothing built per batch, parsed and planned once per connection).
 * While a batch is in flight the next one fills up: under load, hundreds of calls share
 * two round trips; when idle a write goes out at once (after the current I/O callbacks).
 * A failing batch is retried row by row, so a bad row fails only its own caller.
 */
import type { Db } from '../db/client.ts';
import { executePreparedText } from '../db/prepared.ts';
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

/** The batch's new rows, one array per column (a fixed text: a named prepared statement, nothing built per batch). */
const INSERT_CDRS = `
  INSERT INTO cdrs (id, client_id, user_id, call_id, direction, from_extension, dialled, destination, caller_id,
    caller_id_replaced, emergency, allowed, clause, sip_status, started_at, answered_at, ended_at, billable_seconds,
    hangup_by, end_reason, admission, sip_node)
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
    $10::boolean[], $11::boolean[], $12::boolean[], $13::text[], $14::int[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[],
    $18::int[], $19::text[], $20::text[], $21::text[], $22::text[])`;

/** The batch's answers and ends (a closed record is left as it is). */
const UPDATE_CDRS = `
  UPDATE cdrs SET ended_at = v.ended_at, answered_at = v.answered_at, sip_status = v.sip_status,
    billable_seconds = v.billable_seconds, hangup_by = v.hangup_by, end_reason = v.end_reason
  FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[])
    AS v(id, ended_at, answered_at, sip_status, billable_seconds, hangup_by, end_reason)
  WHERE cdrs.id = v.id AND cdrs.ended_at IS NULL`;

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

  private async insertRows(rows: readonly Row[]): Promise<void> {
    const col = <T>(f: (r: Row) => T): T[] => rows.map(f);
    await executePreparedText(this.db, 'e2p_cdrs_open', INSERT_CDRS, [
      col((r) => r.id),
      col((r) => r.cdr.clientId),
      col((r) => r.cdr.userId ?? null),
      col((r) => r.cdr.callId ?? null),
      col((r) => r.cdr.direction),
      col((r) => r.cdr.fromExtension ?? null),
      col((r) => r.cdr.dialled),
      col((r) => r.cdr.destination),
      col((r) => r.cdr.callerId ?? null),
      col((r) => r.cdr.callerIdReplaced ?? false),
      col((r) => r.cdr.emergency ?? false),
      col((r) => r.cdr.allowed),
      col((r) => r.cdr.clause ?? null),
      col((r) => r.cdr.sipStatus),
      col((r) => iso(r.cdr.startedAt)),
      col((r) => iso(r.cdr.answeredAt)),
      col((r) => iso(r.endedAt)),
      col((r) => r.cdr.billableSeconds ?? 0),
      col((r) => r.cdr.hangupBy ?? null),
      col((r) => r.cdr.endReason ?? null),
      col((r) => r.cdr.admission ?? null),
      col((r) => r.cdr.sipNode ?? null),
    ]);
  }

  private async applyChanges(rows: readonly (readonly [string, Change])[]): Promise<void> {
    const col = <T>(f: (c: Change) => T): T[] => rows.map(([, c]) => f(c));
    await executePreparedText(this.db, 'e2p_cdrs_change', UPDATE_CDRS, [
      rows.map(([id]) => id),
      col((c) => iso(c.endedAt)),
      col((c) => iso(c.answeredAt)),
      col((c) => c.sipStatus),
      col((c) => c.billableSeconds),
      col((c) => c.hangupBy),
      col((c) => c.endReason),
    ]);
  }
}
