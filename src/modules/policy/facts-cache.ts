/**
 * Issue #7: the per-client facts a call decision reads (§8.7/§9.2/§13.1 service state,
 * §13.1/§4.3b contract and options, §4.3b/§4.10 settings, §17.1 numbers, the users for
 * the §4.3b default concurrency and internal calls, the §4.3b high-risk list) kept in
 * memory per SIP node: loaded by ONE statement on first use, forgotten on a change notice
 * (src/db/changes.ts, topic `client`, sent by the triggers of migration 0006 on every
 * table they come from: no writer can forget; `*` = every client). A load that a notice
 * overtakes is not kept (generation count), so a decision never keeps a fact older than
 * the last notice it heard.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { ChangeFeed } from '../../db/changes.ts';
import { settings } from '../../db/settings-schema.ts';
import { clients, contracts, type ServiceState } from '../customers/schema.ts';
import type { ClientNumber } from '../provisioning/caller-id.ts';
import { phoneNumbers, provisionedUsers } from '../provisioning/schema.ts';
import { policyClientSettings } from './schema.ts';
import { HIGH_RISK_KEY, type ClientSettingsRow } from './settings.ts';

export const epochMs = (c: SQL): SQL => sql`(extract(epoch from ${c}) * 1000)::float8`;

/** The facts of a client no concurrent decision changes, as they are read (one statement). */
export interface StaticClientFacts {
  serviceState: ServiceState | null;
  /** The current contract's state and options ('none' without a contract). */
  contractState: string;
  contractEnabled: string[];
  settings: ClientSettingsRow | null;
  numbers: ClientNumber[];
  /** The platform's high-risk list (setting `policy.highRiskPrefixes`), null = the default. */
  platformHighRisk: string[] | null;
}

/**
 * The columns of those facts (one subquery each, each on its index): service state
 * (§8.7/§9.2/§13.1), current contract (§13.1, §4.3b options), policy settings (counter
 * reset included), assigned numbers (§17.1), the platform high-risk list (§4.3b).
 */
export function clientFactColumns(clientId: string, only?: NumbersOfCall): SQL {
  const s = policyClientSettings;
  const n = phoneNumbers;
  const ofClient = sql`${n.clientId} = ${clientId} AND ${n.state} = 'assigned'`;
  // Every assigned number (the cache, once per client), or only the ≤ 3 rows one decision's
  // §17.1 caller ID can depend on (the database path, per call): the presented number if the
  // client holds it, the user's own (earliest assigned) and the main one — what
  // `numberIndex` gives over all of them, in the orders of `userNumber` and `mainNumber`
  // (caller-id.ts), which the partial indexes of migration 0009 serve. Issue #4: a client with
  // thousands of DIDs read them all on every call.
  const numbers =
    only === undefined
      ? sql`SELECT * FROM ${n} WHERE ${ofClient}`
      : sql`(SELECT * FROM ${n} WHERE ${ofClient} AND ${n.number} = ${only.callerId ?? ''})
          UNION (SELECT * FROM ${n} WHERE ${ofClient} AND ${n.userId} = ${only.userId}::uuid ORDER BY ${n.assignedAt}, ${n.number} LIMIT 1)
          UNION (SELECT * FROM ${n} WHERE ${ofClient} ORDER BY ${n.isMain} DESC, ${n.assignedAt}, ${n.number} LIMIT 1)`;
  return sql`
      (SELECT ${clients.serviceState} FROM ${clients} WHERE ${clients.id} = ${clientId}) AS service_state,
      (SELECT json_build_object('state', ${contracts.state}, 'enabled', ${contracts.enabled}) FROM ${contracts}
        WHERE ${contracts.clientId} = ${clientId} ORDER BY ${contracts.createdAt} DESC, ${contracts.id} DESC LIMIT 1) AS contract,
      (SELECT json_build_object(
          'maxConcurrentCalls', ${s.maxConcurrentCalls}, 'attemptsPerUserPerMinute', ${s.attemptsPerUserPerMinute},
          'spendLimitCentsPerHour', ${s.spendLimitCentsPerHour}, 'internationalCalls', ${s.internationalCalls},
          'enabled', ${s.enabled}, 'highRiskPrefixes', ${s.highRiskPrefixes},
          'countersResetAt', ${epochMs(sql`${s.countersResetAt}`)}, 'updatedAt', ${epochMs(sql`${s.updatedAt}`)})
        FROM ${s} WHERE ${s.clientId} = ${clientId}) AS settings,
      (SELECT coalesce(json_agg(json_build_object('number', p.number, 'type', p.type, 'userId', p.user_id,
          'isMain', p.is_main, 'assignedAt', ${epochMs(sql`p.assigned_at`)}) ORDER BY p.number), '[]'::json)
        FROM (${numbers}) p) AS numbers,
      (SELECT ${settings.value} FROM ${settings} WHERE ${settings.key} = ${HIGH_RISK_KEY}) AS platform_high_risk`;
}

/** What one decision's caller ID is decided on (`clientFactColumns`' restricted read). */
export interface NumbersOfCall {
  readonly callerId: string | null;
  readonly userId: string | null;
}

const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

export function clientFactsOf(r: Record<string, unknown>, clientId: string): StaticClientFacts {
  const contract = json(r.contract) as { state: string; enabled: string[] } | null;
  const st = json(r.settings) as (Omit<ClientSettingsRow, 'countersResetAt' | 'updatedAt' | 'clientId'> & { countersResetAt: number | null; updatedAt: number }) | null;
  const numbers = json(r.numbers) as (Omit<ClientNumber, 'assignedAt'> & { assignedAt: number })[];
  const platformHighRisk = json(r.platform_high_risk);
  return {
    serviceState: (r.service_state as ServiceState | null) ?? null,
    contractState: contract?.state ?? 'none',
    contractEnabled: contract?.enabled ?? [],
    settings:
      st === null
        ? null
        : { ...st, clientId, countersResetAt: st.countersResetAt === null ? null : new Date(st.countersResetAt), updatedAt: new Date(st.updatedAt) },
    numbers: numbers.map((n) => ({ ...n, assignedAt: new Date(n.assignedAt) })),
    platformHighRisk: Array.isArray(platformHighRisk) && platformHighRisk.every((x) => typeof x === 'string') ? platformHighRisk : null,
  };
}

/** A user of the client as the decision needs it: its extension and lifetime (epoch ms). */
export interface CachedUser {
  readonly extension: string;
  readonly createdMs: number;
  readonly deletedMs: number | null;
}

export interface ClientFacts extends StaticClientFacts {
  /** §4.3b default concurrency: users current at `at`. */
  usersAt(at: Date): number;
  /** The dialled digits are the extension of a current user (internal call). */
  isExtension(dialled: string): boolean;
}

export interface FactsCache {
  get(clientId: string): Promise<ClientFacts>;
  /** Forget one client (null: all) — the change feed calls it; the policy too after its own writes. */
  forget(clientId: string | null): void;
  close(): void;
}

function factsSql(clientId: string) {
  const u = provisionedUsers;
  return sql`
    SELECT ${clientFactColumns(clientId)},
      (SELECT coalesce(json_agg(json_build_array(${u.extension}, ${epochMs(sql`${u.createdAt}`)},
          ${epochMs(sql`${u.deletedAt}`)})), '[]'::json)
        FROM ${u} WHERE ${u.clientId} = ${clientId}) AS users`;
}

async function loadFacts(db: Db, clientId: string): Promise<ClientFacts> {
  const result = (await db.execute(factsSql(clientId))) as { rows: Record<string, unknown>[] };
  const r = result.rows[0]!;
  const base = clientFactsOf(r, clientId);
  const raw = json(r.users) as [string, number, number | null][];
  const users: CachedUser[] = raw.map(([extension, createdMs, deletedMs]) => ({ extension, createdMs, deletedMs }));
  const extensions = new Set(users.filter((x) => x.deletedMs === null).map((x) => x.extension));
  return { ...base, usersAt: usersCounter(users), isExtension: (dialled) => extensions.has(dialled) };
}

/** How many of the sorted `times` are ≤ t (binary search). */
function countUpTo(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * §4.3b the users current at an instant — created at or before it and not yet deleted —
 * in O(log n) per call (a client may have thousands of users and this runs on every
 * call): a user deleted at or before t was created before it, so the count is
 * created(≤ t) − deleted(≤ t).
 */
export function usersCounter(users: readonly CachedUser[]): (at: Date) => number {
  const created = Float64Array.from(users, (x) => x.createdMs).sort();
  const deleted = Float64Array.from(
    users.filter((x) => x.deletedMs !== null),
    (x) => x.deletedMs!,
  ).sort();
  return (at) => {
    const t = at.getTime();
    return countUpTo(created, t) - countUpTo(deleted, t);
  };
}

export function factsCache(db: Db, changes?: ChangeFeed): FactsCache {
  const entries = new Map<string, Promise<ClientFacts>>();
  const generations = new Map<string, number>();
  let epoch = 0; // bumped by "forget everything"
  const forget = (clientId: string | null): void => {
    if (clientId === null || clientId === '*') {
      epoch++;
      entries.clear();
      generations.clear();
      return;
    }
    entries.delete(clientId);
    generations.set(clientId, (generations.get(clientId) ?? 0) + 1);
  };
  const unsubscribe = changes?.on('client', forget);
  return {
    get(clientId) {
      const hit = entries.get(clientId);
      if (hit) return hit;
      const gen = generations.get(clientId) ?? 0;
      const at = epoch;
      const loading = loadFacts(db, clientId);
      entries.set(clientId, loading);
      loading.then(
        () => {
          // overtaken by a notice while loading: the next decision reads again
          if ((generations.get(clientId) ?? 0) !== gen || epoch !== at) {
            if (entries.get(clientId) === loading) entries.delete(clientId);
          }
        },
        () => {
          if (entries.get(clientId) === loading) entries.delete(clientId);
        },
      );
      return loading;
    },
    forget,
    close: () => unsubscribe?.(),
  };
}
