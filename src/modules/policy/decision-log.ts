/**
 * Issue #7: the decision rows (`policy_decisions`, the record behind explainability and
 * audit: RULES.md "every automated decision records the clause it applies") and their
 * answered/ended instants, written by group commit OFF the decision path: what arrives
 * while a batch is being written waits for the next batch, and every batch is one
 * statement — the INSERT of its rows and one UPDATE for its `answered`/`ended` reports
 * (`WRITE_BATCH`) — in one transaction with the `callerid_replaced` events (§17.1) when
 * there are any. The decision does not wait for
 * it: a crash loses at most the batch in flight (the records of the last few milliseconds;
 * the counters that matter live in the admission store). `flush()` waits for everything
 * queued so far (tests, shutdown, the explainability API right after a call).
 */
import type { Db, DbOrTx } from '../../db/client.ts';
import { queryRows } from '../../db/prepared.ts';
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
function columnsOf(r: DecisionRow): Record<string, unknown> & { answered_at: string | null; ended_at: string | null } {
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

/**
 * The whole batch as ONE statement of fixed text (a named prepared statement: nothing built
 * per batch, parsed once per connection): the new rows as one JSON parameter, the answered
 * and ended instants as another (pg's array literals cost more to write than JSON), one
 * UPDATE for both. Its sub-statements share one snapshot,
 * so a row inserted and reported in the same batch takes its instants in the JSON instead.
 */
const WRITE_BATCH = `
  WITH inserted AS (
    INSERT INTO policy_decisions SELECT * FROM json_populate_recordset(NULL::policy_decisions, $1::json)
  ), reported AS (
    UPDATE policy_decisions d SET answered_at = COALESCE(d.answered_at, v.answered_at), ended_at = v.ended_at
    FROM json_to_recordset($2::json) AS v(id uuid, answered_at timestamptz, ended_at timestamptz)
    WHERE d.id = v.id AND d.ended_at IS NULL
  )
  SELECT 1`;

/** Per decision id, the first `answered` and the first `ended` of the batch (the first report wins). */
type Reports = Map<string, { answered: Date | null; ended: Date | null }>;

function reportsOf(b: Batch): Reports {
  const out: Reports = new Map();
  const entry = (id: string): { answered: Date | null; ended: Date | null } => {
    let e = out.get(id);
    if (e === undefined) out.set(id, (e = { answered: null, ended: null }));
    return e;
  };
  for (const [id, at] of b.answered) {
    const e = entry(id);
    e.answered ??= at;
  }
  for (const [id, at] of b.ended) {
    const e = entry(id);
    e.ended ??= at;
  }
  return out;
}

async function write(db: Db, b: Batch): Promise<void> {
  const reports = reportsOf(b);
  const rows = b.rows.map((r) => {
    const c = columnsOf(r);
    const report = reports.get(r.id);
    if (report === undefined) return c;
    reports.delete(r.id);
    // The rules of the UPDATE, on a row of this batch: answered only while neither answered nor ended; ended once.
    if (report.answered !== null && c.answered_at === null && c.ended_at === null) c.answered_at = report.answered.toISOString();
    if (report.ended !== null && c.ended_at === null) c.ended_at = report.ended.toISOString();
    return c;
  });
  const reported = [...reports].map(([id, r]) => ({ id, answered_at: r.answered, ended_at: r.ended }));
  const run = (tx: DbOrTx): Promise<unknown> =>
    queryRows(tx, 'e2p_policy_decisions_batch', WRITE_BATCH, [JSON.stringify(rows), JSON.stringify(reported)]);
  if (b.events.length === 0) {
    await run(db);
    return;
  }
  await db.transaction(async (tx) => {
    await run(tx);
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
