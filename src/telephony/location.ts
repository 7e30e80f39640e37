/**
 * The location service over `sip_bindings` (RFC 3261 §10.3): applies a REGISTER's
 * contacts atomically, lists the live bindings of an address-of-record, purges
 * the dead ones. Times come from the caller (the injected clock).
 */
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { newId } from '../kernel/ids.ts';
import { parseUri, uriEquals } from '../sip/index.ts';
import { sipBindings } from './schema.ts';

export type Binding = typeof sipBindings.$inferSelect;

/** The address-of-record of a SIP user in our domain. */
export const aorFor = (username: string, domain: string): string => `sip:${username}@${domain}`;

// The hot paths (every REGISTER, every call) use raw SQL: drizzle's query builder cost
// more CPU than the statement itself in the profile (issue #4).
const COLUMNS = sql.raw(
  'id, client_id, user_id, aor, contact_uri, source_address, source_port, source_transport, call_id, cseq, expires_at, q, user_agent, created_at, updated_at',
);

const asDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

function toBinding(r: Record<string, unknown>): Binding {
  return {
    id: String(r.id),
    clientId: String(r.client_id),
    userId: String(r.user_id),
    aor: String(r.aor),
    contactUri: String(r.contact_uri),
    sourceAddress: String(r.source_address),
    sourcePort: Number(r.source_port),
    sourceTransport: String(r.source_transport),
    callId: String(r.call_id),
    cseq: Number(r.cseq),
    expiresAt: asDate(r.expires_at),
    q: Number(r.q),
    userAgent: typeof r.user_agent === 'string' ? r.user_agent : null,
    createdAt: asDate(r.created_at),
    updatedAt: asDate(r.updated_at),
  };
}

/** Highest q first, then the most recent, then the id (a stable order for forking and the 200). */
const byPreference = (a: Binding, b: Binding): number =>
  b.q - a.q || b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const rowsOf = (result: unknown): Record<string, unknown>[] => (result as { rows: Record<string, unknown>[] }).rows;

/** The live bindings of an address-of-record, highest q first then most recent. */
export async function activeBindings(db: DbOrTx, aor: string, now: Date): Promise<Binding[]> {
  const result = await db.execute(
    sql`SELECT ${COLUMNS} FROM sip_bindings WHERE aor = ${aor} AND expires_at > ${now.toISOString()}::timestamptz`,
  );
  return rowsOf(result).map(toBinding).sort(byPreference);
}

/** The live bindings of a user (every AOR), as the call router forks to them. */
export async function userBindings(db: DbOrTx, clientId: string, userId: string, now: Date): Promise<Binding[]> {
  const result = await db.execute(
    sql`SELECT ${COLUMNS} FROM sip_bindings
        WHERE client_id = ${clientId}::uuid AND user_id = ${userId}::uuid AND expires_at > ${now.toISOString()}::timestamptz`,
  );
  return rowsOf(result).map(toBinding).sort(byPreference);
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
  | { readonly kind: 'ok'; readonly bindings: Binding[] }
  /** §10.3 step 7: same Call-ID with a CSeq not higher than the binding's. */
  | { readonly kind: 'out-of-order'; readonly contact: string }
  | { readonly kind: 'too-many' };

const sameContact = (a: string, b: string): boolean => {
  if (a === b) return true;
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
  const contacts = distinctContacts(u.contacts);
  const input = JSON.stringify(
    contacts.map((c) => ({ id: newId(now), uri: c.uri, expires: c.expires, q: c.q })),
  );
  const at = now.toISOString();
  const result = await db.execute(sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${input}::jsonb) AS c(id uuid, uri text, expires integer, q double precision)
    ),
    live AS (
      SELECT ${COLUMNS} FROM sip_bindings WHERE aor = ${u.aor} AND expires_at > ${at}::timestamptz
    ),
    stale AS (
      SELECT contact_uri FROM live
      WHERE call_id = ${u.callId} AND cseq >= ${u.cseq}
        AND (${u.removeAll}::boolean OR contact_uri IN (SELECT uri FROM input))
      LIMIT 1
    ),
    kept AS (
      SELECT ${COLUMNS} FROM live
      WHERE NOT ${u.removeAll}::boolean AND contact_uri NOT IN (SELECT uri FROM input)
    ),
    verdict AS (
      SELECT CASE
        WHEN EXISTS (SELECT 1 FROM stale) THEN 'out-of-order'
        WHEN (SELECT count(*) FROM kept) + (SELECT count(*) FROM input WHERE expires > 0) > ${u.maxBindings} THEN 'too-many'
        ELSE 'ok' END AS verdict,
        (SELECT contact_uri FROM stale) AS stale_contact
    ),
    removed AS (
      DELETE FROM sip_bindings b
      WHERE b.aor = ${u.aor}
        AND b.contact_uri NOT IN (SELECT uri FROM input WHERE expires > 0)
        AND (b.expires_at <= ${at}::timestamptz
          OR ((SELECT verdict FROM verdict) = 'ok'
            AND (${u.removeAll}::boolean OR b.contact_uri IN (SELECT uri FROM input WHERE expires = 0))
            AND (b.call_id <> ${u.callId} OR b.cseq < ${u.cseq})))
      RETURNING b.id
    ),
    written AS (
      INSERT INTO sip_bindings AS b (${COLUMNS})
      SELECT i.id, ${u.clientId}::uuid, ${u.userId}::uuid, ${u.aor}, i.uri, ${u.source.address}, ${u.source.port}::integer,
        ${u.source.transport}, ${u.callId}, ${u.cseq}::integer, ${at}::timestamptz + make_interval(secs => i.expires), i.q,
        ${u.userAgent}::text, ${at}::timestamptz, ${at}::timestamptz
      FROM input i
      WHERE i.expires > 0 AND (SELECT verdict FROM verdict) = 'ok'
      ON CONFLICT (aor, contact_uri) DO UPDATE SET
        client_id = excluded.client_id, user_id = excluded.user_id,
        source_address = excluded.source_address, source_port = excluded.source_port, source_transport = excluded.source_transport,
        call_id = excluded.call_id, cseq = excluded.cseq, expires_at = excluded.expires_at, q = excluded.q,
        user_agent = excluded.user_agent, updated_at = excluded.updated_at,
        created_at = CASE WHEN b.expires_at <= excluded.updated_at THEN excluded.created_at ELSE b.created_at END
      WHERE b.expires_at <= excluded.updated_at OR b.call_id <> excluded.call_id OR b.cseq < excluded.cseq
      RETURNING ${COLUMNS}
    ),
    bindings AS (
      SELECT ${COLUMNS} FROM kept WHERE (SELECT verdict FROM verdict) = 'ok' AND id NOT IN (SELECT id FROM removed)
      UNION ALL
      SELECT ${COLUMNS} FROM written
    )
    SELECT v.verdict, v.stale_contact, (SELECT count(*) FROM written)::integer AS written,
      (SELECT count(*) FROM removed)::integer AS removed_count, b.*
    FROM verdict v LEFT JOIN bindings b ON true`);
  const rows = rowsOf(result);
  const head = rows[0];
  if (!head) throw new Error('applyRegister: the statement returned no row');
  if (head.verdict === 'out-of-order') return { kind: 'out-of-order', contact: String(head.stale_contact) };
  if (head.verdict === 'too-many') return { kind: 'too-many' };
  const bindings = rows.filter((r) => r.id !== null && r.id !== undefined).map(toBinding);
  const expected = contacts.filter((c) => c.expires > 0);
  if (Number(head.written) < expected.length) {
    // A newer REGISTER of the same Call-ID updated one of these contacts in between (§10.3 step 7).
    const skipped = expected.find((c) => !bindings.some((b) => b.contactUri === c.uri));
    return { kind: 'out-of-order', contact: skipped?.uri ?? expected[0]!.uri };
  }
  return { kind: 'ok', bindings: await withoutEquivalents(db, bindings, contacts) };
}

/**
 * A phone that writes an already bound contact differently (another parameter order,
 * host case…) gets a new row: the older, equivalent one (RFC 3261 §19.1.4) is deleted
 * here — rare, so a second statement only then.
 */
async function withoutEquivalents(db: DbOrTx, bindings: Binding[], contacts: readonly ContactUpdate[]): Promise<Binding[]> {
  const fresh = new Set(contacts.map((c) => c.uri));
  const older = bindings.filter((b) => !fresh.has(b.contactUri) && contacts.some((c) => sameContact(c.uri, b.contactUri)));
  if (older.length > 0) {
    const ids = sql.join(older.map((b) => sql`${b.id}::uuid`), sql`, `);
    await db.execute(sql`DELETE FROM sip_bindings WHERE id IN (${ids})`);
  }
  return bindings.filter((b) => !older.includes(b)).sort(byPreference);
}
