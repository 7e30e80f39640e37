/**
 * The location service over `sip_bindings` (RFC 3261 §10.3): applies a REGISTER's
 * contacts atomically, lists the live bindings of an address-of-record, purges
 * the dead ones. Times come from the caller (the injected clock).
 */
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { queryRows } from '../db/prepared.ts';
import { newId } from '../kernel/ids.ts';
import { parseUri, uriEquals } from '../sip/index.ts';
import { sipBindings } from './schema.ts';

export type Binding = typeof sipBindings.$inferSelect;

/** The address-of-record of a SIP user in our domain. */
export const aorFor = (username: string, domain: string): string => `sip:${username}@${domain}`;

// The hot paths (every REGISTER, every call) use raw SQL: drizzle's query builder cost
// more CPU than the statement itself in the profile (issue #4).
const COLUMNS = 'id, client_id, user_id, aor, contact_uri, source_address, source_port, source_transport, call_id, cseq, expires_at, q, user_agent, created_at, updated_at';

/**
 * A binding as read by the hot statements (`queryRows`: rows as arrays): the columns of
 * `bindingAt`, in this order, the timestamps as float8 epoch milliseconds — a `Date` made
 * from a number, not parsed from text per column per row (issue #4).
 */
const bindingColumns = (t: string): string =>
  `${t}.id, ${t}.client_id, ${t}.user_id, ${t}.aor, ${t}.contact_uri, ${t}.source_address, ${t}.source_port, ${t}.source_transport, ` +
  `${t}.call_id, ${t}.cseq, (extract(epoch FROM ${t}.expires_at) * 1000)::float8, ${t}.q, ${t}.user_agent, ` +
  `(extract(epoch FROM ${t}.created_at) * 1000)::float8, (extract(epoch FROM ${t}.updated_at) * 1000)::float8`;

/** The binding in `row` from column `i` on (the list of `bindingColumns`). */
function bindingAt(row: readonly unknown[], i: number): Binding {
  return {
    id: String(row[i]),
    clientId: String(row[i + 1]),
    userId: String(row[i + 2]),
    aor: String(row[i + 3]),
    contactUri: String(row[i + 4]),
    sourceAddress: String(row[i + 5]),
    sourcePort: Number(row[i + 6]),
    sourceTransport: String(row[i + 7]),
    callId: String(row[i + 8]),
    cseq: Number(row[i + 9]),
    expiresAt: new Date(Number(row[i + 10])),
    q: Number(row[i + 11]),
    userAgent: typeof row[i + 12] === 'string' ? (row[i + 12] as string) : null,
    createdAt: new Date(Number(row[i + 13])),
    updatedAt: new Date(Number(row[i + 14])),
  };
}

/**
 * A binding as the REGISTER's statement gives it back: what the 200 lists (contact, expiry,
 * q) and what the outcome is judged on (Call-ID, CSeq, id) — 7 columns, not the row's 15:
 * each column of each row is a string the driver cuts and converts (issue #4).
 */
export type RegisteredBinding = Pick<Binding, 'id' | 'contactUri' | 'callId' | 'cseq' | 'expiresAt' | 'q' | 'updatedAt'>;

/** The columns of a `RegisteredBinding` in the statement's CTEs, and as the statement returns them (timestamps as epoch ms). */
const REGISTERED = 'id, contact_uri, call_id, cseq, expires_at, q, updated_at';
const registeredColumns = (t: string): string =>
  `${t}.id, ${t}.contact_uri, ${t}.call_id, ${t}.cseq, (extract(epoch FROM ${t}.expires_at) * 1000)::float8, ${t}.q, (extract(epoch FROM ${t}.updated_at) * 1000)::float8`;

/** The registered binding in `row` from column `i` on (the list of `registeredColumns`). */
function registeredAt(row: readonly unknown[], i: number): RegisteredBinding {
  return {
    id: String(row[i]),
    contactUri: String(row[i + 1]),
    callId: String(row[i + 2]),
    cseq: Number(row[i + 3]),
    expiresAt: new Date(Number(row[i + 4])),
    q: Number(row[i + 5]),
    updatedAt: new Date(Number(row[i + 6])),
  };
}

/** Highest q first, then the most recent, then the id (a stable order for forking and the 200). */
const byPreference = (a: RegisteredBinding, b: RegisteredBinding): number =>
  b.q - a.q || b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const rowsOf = (result: unknown): Record<string, unknown>[] => (result as { rows: Record<string, unknown>[] }).rows;
const bindingsOf = (rows: readonly unknown[][]): Binding[] => rows.map((row) => bindingAt(row, 0)).sort(byPreference);

const ACTIVE_BINDINGS = `SELECT ${bindingColumns('b')} FROM sip_bindings b WHERE b.aor = $1 AND b.expires_at > $2::timestamptz`;
const USER_BINDINGS = `SELECT ${bindingColumns('b')} FROM sip_bindings b WHERE b.client_id = $1::uuid AND b.user_id = $2::uuid AND b.expires_at > $3::timestamptz`;

/** The live bindings of an address-of-record, highest q first then most recent. */
export async function activeBindings(db: DbOrTx, aor: string, now: Date): Promise<Binding[]> {
  return bindingsOf(await queryRows(db, 'e2p_active_bindings', ACTIVE_BINDINGS, [aor, now.toISOString()]));
}

/** The live bindings of a user (every AOR), as the call router forks to them. */
export async function userBindings(db: DbOrTx, clientId: string, userId: string, now: Date): Promise<Binding[]> {
  return bindingsOf(await queryRows(db, 'e2p_user_bindings', USER_BINDINGS, [clientId, userId, now.toISOString()]));
}

/** Deletes the bindings expired at `now`; returns how many. */
export async function purgeExpiredBindings(db: DbOrTx, now: Date): Promise<number> {
  const result = await db.execute(sql`DELETE FROM sip_bindings WHERE expires_at <= ${now.toISOString()}::timestamptz RETURNING id`);
  return rowsOf(result).length;
}

export interface ContactUpdate {
  /** The Contact URI, formatted. */
  readonly uri: string;
  /** Seconds, already bounded by the registrar; 0 removes the binding. */
  readonly expires: number;
  readonly q: number;
}

export interface RegisterUpdate {
  readonly aor: string;
  readonly clientId: string;
  readonly userId: string;
  readonly callId: string;
  readonly cseq: number;
  /** `Contact: *` with Expires 0: remove every binding. */
  readonly removeAll: boolean;
  readonly contacts: readonly ContactUpdate[];
  readonly source: { readonly address: string; readonly port: number; readonly transport: string };
  readonly userAgent: string | null;
  /** Most live bindings the AOR may hold after the update. */
  readonly maxBindings: number;
}

export type RegisterOutcome =
  | { readonly kind: 'ok'; readonly bindings: RegisteredBinding[] }
  /** §10.3 step 7: same Call-ID with a CSeq not higher than the binding's. */
  | { readonly kind: 'out-of-order'; readonly contact: string }
  | { readonly kind: 'too-many' };

const sameContact = (a: string, b: string): boolean => {
  if (a === b) return true;
  // parseUri remembers the texts it parsed lately (ParseMemo): an AOR's few contacts, REGISTER after REGISTER.
  const x = parseUri(a);
  const y = parseUri(b);
  return x.ok && y.ok && uriEquals(x.value, y.value);
};

/** One entry per contact (§10.3 step 6: a later Contact of the same URI in the request wins). */
function distinctContacts(contacts: readonly ContactUpdate[]): ContactUpdate[] {
  const out: ContactUpdate[] = [];
  for (const c of contacts) {
    const i = out.findIndex((o) => sameContact(o.uri, c.uri));
    if (i >= 0) out.splice(i, 1);
    out.push(c);
  }
  return out;
}

/**
 * RFC 3261 §10.3 steps 6–8 in ONE statement (one round trip, atomic): the expired
 * bindings of the AOR are purged, the request's contacts upserted or removed, and the
 * resulting live bindings returned. A contact is the same binding when its URI is the
 * same string (the unique index `(aor, contact_uri)`); the registrar stores URIs as it
 * formats them, so a phone refreshing its binding sends the same string.
 *
 * Nothing is written when a contact is out of order (§10.3 step 7: same Call-ID, CSeq
 * not higher) or when the AOR would hold more than `maxBindings` — judged on the
 * statement's snapshot. Two REGISTERs of one AOR at once, on one node or two, need no
 * lock: the upsert (`ON CONFLICT … DO UPDATE … WHERE`) and the deletes wait for the
 * other writer's row and re-check the Call-ID/CSeq condition on its committed version,
 * so a binding never goes back to an older CSeq and the same contact never gives two
 * rows. When the re-check skips a contact (a newer REGISTER of the same Call-ID won
 * the race) the outcome is `out-of-order`; the request's other contacts are then
 * written (the only case where the update is not all-or-nothing, and only within one
 * Call-ID, i.e. one phone racing itself). The `maxBindings` bound may be passed by the
 * contacts of REGISTERs racing each other (each saw the other's rows absent).
 */
export async function applyRegister(db: DbOrTx, u: RegisterUpdate, now: Date): Promise<RegisterOutcome> {
  const [outcome] = await applyRegisters(db, [{ update: u, now }]);
  return outcome!;
}

export interface RegisterItem {
  readonly update: RegisterUpdate;
  readonly now: Date;
}

/**
 * Several REGISTERs of DIFFERENT addresses-of-record in one statement and one commit
 * (group commit, see `LocationWriter`): each gets the outcome `applyRegister` would give.
 */
export async function applyRegisters(db: DbOrTx, items: readonly RegisterItem[]): Promise<RegisterOutcome[]> {
  if (new Set(items.map((i) => i.update.aor)).size !== items.length) throw new Error('applyRegisters: one REGISTER per AOR in a batch');
  const contactsOf = items.map((i) => distinctContacts(i.update.contacts));
  const reqs = JSON.stringify(
    items.map(({ update: u, now }, r) => ({
      r,
      aor: u.aor,
      client_id: u.clientId,
      user_id: u.userId,
      call_id: u.callId,
      cseq: u.cseq,
      remove_all: u.removeAll,
      max: u.maxBindings,
      addr: u.source.address,
      port: u.source.port,
      transport: u.source.transport,
      ua: u.userAgent,
      at: now.toISOString(),
    })),
  );
  const input = JSON.stringify(
    contactsOf.flatMap((cs, r) => cs.map((c) => ({ r, id: newId(items[r]!.now), uri: c.uri, expires: c.expires, q: c.q }))),
  );
  const rows = await queryRows(db, 'e2p_apply_registers', REGISTER_STATEMENT, [reqs, input]);
  // The rows of each REGISTER, in one pass (a filter per REGISTER was quadratic in the batch size).
  const rowsOfReq: unknown[][][] = items.map(() => []);
  for (const row of rows) rowsOfReq[Number(row[0])]?.push(row);
  // Synchronous unless a REGISTER rewrote a contact (rare): no promise per REGISTER (issue #4).
  const outcomes: (RegisterOutcome | Promise<RegisterOutcome>)[] = items.map(({ update: u }, r) => {
    const mine = rowsOfReq[r]!;
    const head = mine[0];
    if (!head) throw new Error('applyRegisters: the statement returned no row for a REGISTER');
    if (head[1] === 'out-of-order') return { kind: 'out-of-order', contact: String(head[2]) };
    if (head[1] === 'too-many') return { kind: 'too-many' };
    const bindings = mine.filter((row) => row[3] !== null && row[3] !== undefined).map((row) => registeredAt(row, 3));
    const contacts = contactsOf[r]!;
    // A contact of the request missing from the result: a newer REGISTER of the same Call-ID updated it in between (§10.3 step 7).
    const skipped = contacts.find((c) => c.expires > 0 && !bindings.some((b) => b.contactUri === c.uri && b.callId === u.callId && b.cseq === u.cseq));
    if (skipped) return { kind: 'out-of-order', contact: skipped.uri };
    const older = olderEquivalents(bindings, contacts);
    if (older.length === 0) return { kind: 'ok', bindings: bindings.sort(byPreference) };
    return withoutEquivalents(db, bindings, older).then((kept): RegisterOutcome => ({ kind: 'ok', bindings: kept }));
  });
  return outcomes.some((o) => o instanceof Promise) ? Promise.all(outcomes.map(async (o) => o)) : (outcomes as RegisterOutcome[]);
}

/** The statement of `applyRegisters` (exported for EXPLAIN in benchmarks): $1 the REGISTERs, $2 their contacts, as JSON. */
export const REGISTER_STATEMENT = `
    WITH reqs AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset($1::jsonb) AS q(r integer, aor text, client_id uuid, user_id uuid, call_id text,
        cseq integer, remove_all boolean, max integer, addr text, port integer, transport text, ua text, at timestamptz)
    ),
    input AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset($2::jsonb) AS c(r integer, id uuid, uri text, expires integer, q double precision)
    ),
    live AS MATERIALIZED (
      SELECT q.r, b.* FROM reqs q CROSS JOIN LATERAL (
        -- OFFSET 0: one probe of the (aor, contact_uri) index per REGISTER, whatever the
        -- statistics say (a freshly filled table had the planner scan all of it, or AND it
        -- with the expires_at index)
        SELECT ${REGISTERED} FROM sip_bindings WHERE aor = q.aor OFFSET 0
      ) b
      WHERE b.expires_at > q.at
    ),
    stale AS (
      SELECT DISTINCT ON (l.r) l.r, l.contact_uri FROM live l JOIN reqs q ON q.r = l.r
      WHERE l.call_id = q.call_id AND l.cseq >= q.cseq
        AND (q.remove_all OR EXISTS (SELECT 1 FROM input i WHERE i.r = l.r AND i.uri = l.contact_uri))
      ORDER BY l.r, l.contact_uri
    ),
    kept AS MATERIALIZED (
      SELECT l.* FROM live l JOIN reqs q ON q.r = l.r
      WHERE NOT q.remove_all AND NOT EXISTS (SELECT 1 FROM input i WHERE i.r = l.r AND i.uri = l.contact_uri)
    ),
    verdict AS MATERIALIZED (
      SELECT q.r, s.contact_uri AS stale_contact, CASE
        WHEN s.r IS NOT NULL THEN 'out-of-order'
        WHEN (SELECT count(*) FROM kept k WHERE k.r = q.r) + (SELECT count(*) FROM input i WHERE i.r = q.r AND i.expires > 0) > q.max THEN 'too-many'
        ELSE 'ok' END AS verdict
      FROM reqs q LEFT JOIN stale s ON s.r = q.r
    ),
    removed AS (
      DELETE FROM sip_bindings b
      USING reqs q JOIN verdict v ON v.r = q.r CROSS JOIN LATERAL (SELECT id FROM sip_bindings WHERE aor = q.aor OFFSET 0) t
      WHERE b.id = t.id AND b.aor = q.aor
        AND NOT EXISTS (SELECT 1 FROM input i WHERE i.r = q.r AND i.expires > 0 AND i.uri = b.contact_uri)
        AND (b.expires_at <= q.at
          OR (v.verdict = 'ok'
            AND (q.remove_all OR EXISTS (SELECT 1 FROM input i WHERE i.r = q.r AND i.expires = 0 AND i.uri = b.contact_uri))
            AND (b.call_id <> q.call_id OR b.cseq < q.cseq)))
      RETURNING b.id
    ),
    written AS (
      INSERT INTO sip_bindings AS b (${COLUMNS})
      SELECT i.id, q.client_id, q.user_id, q.aor, i.uri, q.addr, q.port, q.transport, q.call_id, q.cseq,
        q.at + make_interval(secs => i.expires), i.q, q.ua, q.at, q.at
      FROM input i JOIN reqs q ON q.r = i.r JOIN verdict v ON v.r = i.r
      WHERE i.expires > 0 AND v.verdict = 'ok'
      ON CONFLICT (aor, contact_uri) DO UPDATE SET
        client_id = excluded.client_id, user_id = excluded.user_id,
        source_address = excluded.source_address, source_port = excluded.source_port, source_transport = excluded.source_transport,
        call_id = excluded.call_id, cseq = excluded.cseq, expires_at = excluded.expires_at, q = excluded.q,
        user_agent = excluded.user_agent, updated_at = excluded.updated_at,
        created_at = CASE WHEN b.expires_at <= excluded.updated_at THEN excluded.created_at ELSE b.created_at END
      WHERE b.expires_at <= excluded.updated_at OR b.call_id <> excluded.call_id OR b.cseq < excluded.cseq
      RETURNING aor, ${REGISTERED}
    ),
    bindings AS (
      SELECT k.r, ${REGISTERED} FROM kept k JOIN verdict v ON v.r = k.r
      WHERE v.verdict = 'ok' AND k.id NOT IN (SELECT id FROM removed)
      UNION ALL
      SELECT q.r, w.id, w.contact_uri, w.call_id, w.cseq, w.expires_at, w.q, w.updated_at FROM written w JOIN reqs q ON q.aor = w.aor
    )
    SELECT v.r, v.verdict, v.stale_contact, ${registeredColumns('b')}
    FROM verdict v LEFT JOIN bindings b ON b.r = v.r`;

/**
 * A phone that writes an already bound contact differently (another parameter order,
 * host case…) gets a new row: the older, equivalent one (RFC 3261 §19.1.4) is deleted
 * by `withoutEquivalents` — rare, so a second statement only then.
 */
function olderEquivalents(bindings: readonly RegisteredBinding[], contacts: readonly ContactUpdate[]): RegisteredBinding[] {
  return bindings.filter((b) => !contacts.some((c) => c.uri === b.contactUri) && contacts.some((c) => sameContact(c.uri, b.contactUri)));
}

async function withoutEquivalents(db: DbOrTx, bindings: RegisteredBinding[], older: readonly RegisteredBinding[]): Promise<RegisteredBinding[]> {
  const ids = sql.join(older.map((b) => sql`${b.id}::uuid`), sql`, `);
  await db.execute(sql`DELETE FROM sip_bindings WHERE id IN (${ids})`);
  return bindings.filter((b) => !older.includes(b)).sort(byPreference);
}

export interface LocationWriterOptions {
  /** Most REGISTERs in one statement (500 by default). */
  readonly maxBatch?: number;
  /**
   * Statements in flight at once (1 by default); the REGISTERs arriving meanwhile wait and
   * go together in the next one. One in flight makes the batches twice as big as two did
   * and halves the statements per REGISTER — each costs a fixed share of node CPU (driver,
   * socket, wake-up) and of PostgreSQL's (executor start, commit): issue #4, bench/README.md.
   */
  readonly maxInFlight?: number;
}

interface Waiting {
  readonly item: RegisterItem;
  readonly resolve: (o: RegisterOutcome) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Group commit of the location (issue #4): REGISTERs are written by `applyRegisters`, many
 * per statement; each caller is answered once ITS statement has committed, so the 200 still
 * follows the write (a restart or another node finds the binding). No timer: an idle writer
 * sends a REGISTER at once; while statements are in flight the next ones gather. Two
 * REGISTERs of one AOR never share a statement (the later one waits for the next).
 */
export class LocationWriter {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private sent = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly db: DbOrTx,
    o: LocationWriterOptions = {},
  ) {
    this.maxBatch = o.maxBatch ?? 500;
    this.maxInFlight = o.maxInFlight ?? 1;
  }

  /** Statements sent so far (tests, benchmarks: REGISTERs per statement). */
  get statements(): number {
    return this.sent;
  }

  apply(update: RegisterUpdate, now: Date): Promise<RegisterOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item: { update, now }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Waiting[] = [];
      const rest: Waiting[] = [];
      const aors = new Set<string>();
      for (const w of this.queue) {
        if (batch.length < this.maxBatch && !aors.has(w.item.update.aor)) {
          aors.add(w.item.update.aor);
          batch.push(w);
        } else rest.push(w);
      }
      this.queue = rest;
      this.inFlight++;
      this.sent++;
      // The next statement leaves before this one's callers go on (each builds and sends its 200):
      // the writer's cycle is what every REGISTER of a storm waits for (issue #4).
      const next = (): void => {
        this.inFlight--;
        this.pump();
      };
      applyRegisters(
        this.db,
        batch.map((w) => w.item),
      ).then(
        (outcomes) => {
          next();
          batch.forEach((w, i) => w.resolve(outcomes[i]!));
        },
        (e: unknown) => {
          next();
          batch.forEach((w) => w.reject(e));
        },
      );
    }
  }
}
