/**
 * Issue #7: the decision rows (`policy_decisions`, the record behind explainability and
 * audit: RULES.md "every automated decision records the clause it applies") and their
 * answered/ended instants, written by group commit OFF the decision path: what arrives
 * while a batch is being written waits for the next batch, and every batch is one
 * transaction — one multi-row INSERT, one UPDATE … FROM (VALUES …) for `answered`, one for
 * `ended`, then the `callerid_replaced` events (§17.1). The decision does not wait for
 * it: a crash loses at most the batch in flight (the records of the last few milliseconds;
 * the counters that matter live in the admission store). `flush()` waits for everything
 * queued so far (tests, shutdown, the explainability API right after a call).
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { recordEvent, type DomainEvent } from '../events/index.ts';
import type { policyDecisions } from './schema.ts';

export type DecisionRow = typeof policyDecisions.$inferInsert;

export interface DecisionLog {
  insert(row: DecisionRow): void;
  answered(id: string, at: Date): void;
  ended(id: string, at: Date): void;
  event(e: DomainEvent): void;
  /** Resolves once everything queued before the call is committed (rejects if that batch failed). */
  flush(): Promise<void>;
}

interface Batch {
  rows: DecisionRow[];
  answered: [string, Date][];
  ended: [string, Date][];
  events: DomainEvent[];
}

const empty = (): Batch => ({ rows: [], answered: [], ended: [], events: [] });
/** A row under its column names, every column given (json_populate_recordset applies no default). */
function columnsOf(r: DecisionRow): Record<string, unknown> {
  return {
    id: r.id,
    client_id: r.clientId,
    user_id: r.userId ?? null,
    direction: r.direction,
    dialled: r.dialled,
    destination: r.destination ?? null,
    destination_class: r.destinationClass,
    per_minute_micros: r.perMinuteMicros ?? 0,
    allowed: r.allowed,
    sip_status: r.sipStatus ?? null,
    clause: r.clause ?? null,
    reason: r.reason ?? null,
    caller_id: r.callerId ?? null,
    caller_id_replaced: r.callerIdReplaced ?? false,
    emergency: r.emergency ?? false,
    facts: r.facts,
    started_at: r.startedAt.toISOString(),
    answered_at: r.answeredAt?.toISOString() ?? null,
    ended_at: r.endedAt?.toISOString() ?? null,
  };
}

async function write(db: Db, b: Batch): Promise<void> {
  await db.transaction(async (tx) => {
    // One parameter (the batch as JSON), no query building per row: the hot path's writer.
    if (b.rows.length > 0) {
      await tx.execute(sql`INSERT INTO policy_decisions SELECT * FROM json_populate_recordset(NULL::policy_decisions, ${JSON.stringify(b.rows.map(columnsOf))}::json)`);
    }
    // Idempotent, the first report wins (answered: not after ended).
    if (b.answered.length > 0) {
      const values = sql.join(b.answered.map(([id, at]) => sql`(${id}::uuid, ${at.toISOString()}::timestamptz)`), sql`, `);
      await tx.execute(sql`UPDATE policy_decisions d SET answered_at = v.at FROM (VALUES ${values}) AS v(id, at)
        WHERE d.id = v.id AND d.answered_at IS NULL AND d.ended_at IS NULL`);
    }
    if (b.ended.length > 0) {
      const values = sql.join(b.ended.map(([id, at]) => sql`(${id}::uuid, ${at.toISOString()}::timestamptz)`), sql`, `);
      await tx.execute(sql`UPDATE policy_decisions d SET ended_at = v.at FROM (VALUES ${values}) AS v(id, at)
        WHERE d.id = v.id AND d.ended_at IS NULL`);
    }
    for (const e of b.events) await recordEvent(tx, e);
  });
}

export function decisionLog(db: Db, onError: (e: unknown) => void = () => undefined): DecisionLog {
  let queued = empty();
  let writing: Promise<void> | null = null;
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const pending = (b: Batch): boolean => b.rows.length + b.answered.length + b.ended.length + b.events.length > 0;

  let scheduled = false;
  const run = (): void => {
    scheduled = false;
    if (writing !== null || !pending(queued)) return;
    const batch = queued;
    const done = waiters;
    queued = empty();
    waiters = [];
    writing = write(db, batch).then(
      () => done.forEach((w) => w.resolve()),
      (e: unknown) => {
        onError(e);
        done.forEach((w) => w.reject(e));
      },
    );
    void writing.finally(() => {
      writing = null;
      run();
    });
  };
  // Batches form while one is written; the first item of an idle log is written at the next tick.
  const kick = (): void => {
    if (writing === null && !scheduled) {
      scheduled = true;
      setImmediate(run);
    }
  };
  return {
    insert(row) {
      queued.rows.push(row);
      kick();
    },
    answered(id, at) {
      queued.answered.push([id, at]);
      kick();
    },
    ended(id, at) {
      queued.ended.push([id, at]);
      kick();
    },
    event(e) {
      queued.events.push(e);
      kick();
    },
    flush() {
      if (!pending(queued) && writing === null) return Promise.resolve();
      if (!pending(queued)) return writing!.then(() => undefined, () => undefined);
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        kick();
      });
    },
  };
}
