import { and, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { queryRows } from '../../db/prepared.ts';
import { evictionBatch, forgetOldest } from '../../kernel/bounded.ts';
import { mainNumber } from './caller-id.ts';
import { phoneNumbers, provisionedUsers } from './schema.ts';

/**
 * The directory the SIP registrar and call router read (implementation of the telephony
 * interface). Only current users; the realm is the one the HA1s were computed with.
 */
export interface SipCredentialsRecord {
  userId: string;
  clientId: string;
  extension: string;
  username: string;
  realm: string;
  ha1Md5: string;
  ha1Sha256: string;
}

export interface DirectoryUser {
  userId: string;
  clientId: string;
  extension: string;
  username: string;
  displayName: string | null;
  site: string | null;
}

/** A user's SIP credentials by username (`<extension>.<client code>`); null when unknown or deleted. */
export async function findSipCredentials(db: DbOrTx, username: string): Promise<SipCredentialsRecord | null> {
  return (await selectSipCredentialsOf(db, [username])).get(username) ?? null;
}

/** A current user of the client by extension; null when none. */
export async function findUserByExtension(db: DbOrTx, clientId: string, extension: string): Promise<DirectoryUser | null> {
  const [u] = await db
    .select()
    .from(provisionedUsers)
    .where(and(eq(provisionedUsers.clientId, clientId), eq(provisionedUsers.extension, extension), isNull(provisionedUsers.deletedAt)));
  if (!u) return null;
  return { userId: u.id, clientId: u.clientId, extension: u.extension, username: u.sipUsername, displayName: u.displayName, site: u.site };
}

/**
 * Where an inbound call to `e164` goes: an assigned number → its user, else (no user) the
 * target of the client's main number (its user, or null = the client without a user).
 * null when the number is not assigned to anyone.
 */
export async function findDidTarget(db: DbOrTx, e164: string): Promise<{ clientId: string; userId: string | null } | null> {
  const [n] = await db
    .select()
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.number, e164), eq(phoneNumbers.state, 'assigned')));
  if (!n?.clientId) return null;
  if (n.userId) return { clientId: n.clientId, userId: n.userId };
  const main = await mainNumber(db, n.clientId);
  if (main && main !== e164) {
    const [m] = await db.select({ userId: phoneNumbers.userId }).from(phoneNumbers).where(eq(phoneNumbers.number, main));
    return { clientId: n.clientId, userId: m?.userId ?? null };
  }
  return { clientId: n.clientId, userId: null };
}


// ---------------------------------------------------------------- the per-node cache

/** A map that forgets its oldest entries past `max` (insertion order), a tenth of `max` at once (`forgetOldest`). */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.max) forgetOldest(this, evictionBatch(this.max));
    return this;
  }
}

/** What invalidates the cache: the change feed of src/db/changes.ts (topic `sip_user`, key = SIP username). */
export interface SipUserChanges {
  on(topic: 'sip_user', onChange: (key: string | null) => void): () => void;
}

export interface SipDirectoryCacheOptions {
  /** Users kept per node (200 000 by default: ~100 MB at most). */
  readonly maxUsers?: number;
  /** Unknown usernames / extensions remembered as such (10 000 by default): a flood of unknown names costs one query per new name, and memory stays bounded. */
  readonly maxUnknown?: number;
}

/**
 * The SIP directory with a per-node memory (issue #4: no database round trip per REGISTER or
 * call for a known user). Filled on a miss (unknown users too, in a bounded map of their
 * own), forgotten on a `sip_user` change notice: the trigger on `provisioned_users`
 * (migration 0006) sends one at every commit that creates, deletes, renames a user or
 * changes its credentials, and `resetCredentials`/`createUsers`/`deleteUsers` also tell
 * this process at once (src/db/changes.ts). A read that was in flight while a notice came
 * is not kept (it may hold the old row). A lost LISTEN connection forgets everything.
 */
export class CachedSipDirectory {
  private readonly users: BoundedMap<string, SipCredentialsRecord>;
  private readonly unknown: BoundedMap<string, true>;
  private readonly extensions: BoundedMap<string, DirectoryUser>;
  private readonly noExtension: BoundedMap<string, true>;
  /** username → its key in `extensions`. */
  private readonly extensionKeys: BoundedMap<string, string>;
  private readonly pending = new Map<string, Promise<SipCredentialsRecord | null>>();
  private misses: { username: string; resolve: (r: SipCredentialsRecord | null) => void; reject: (e: unknown) => void }[] = [];
  private loading = 0;
  /** Bumped by every notice: a read that started before must not fill the cache. */
  private epoch = 0;
  private readonly off: () => void;
  private readonly maxUsers: number;

  constructor(
    private readonly db: DbOrTx,
    changes: SipUserChanges,
    o: SipDirectoryCacheOptions = {},
  ) {
    const maxUsers = o.maxUsers ?? 200_000;
    const maxUnknown = o.maxUnknown ?? 10_000;
    this.maxUsers = maxUsers;
    this.users = new BoundedMap(maxUsers);
    this.extensions = new BoundedMap(maxUsers);
    this.extensionKeys = new BoundedMap(maxUsers);
    this.unknown = new BoundedMap(maxUnknown);
    this.noExtension = new BoundedMap(maxUnknown);
    this.off = changes.on('sip_user', (username) => this.forget(username));
  }

  /** Stops listening to the notices. */
  close(): void {
    this.off();
  }

  /** Forgets a username (null: everything). */
  forget(username: string | null): void {
    this.epoch++;
    this.pending.clear();
    this.noExtension.clear(); // a new user may take an extension remembered as free
    if (username === null) {
      this.users.clear();
      this.unknown.clear();
      this.extensions.clear();
      this.extensionKeys.clear();
      return;
    }
    this.users.delete(username);
    this.unknown.delete(username);
    const key = this.extensionKeys.get(username);
    if (key !== undefined) {
      this.extensions.delete(key);
      this.extensionKeys.delete(username);
    }
  }

  /**
   * Reads the credentials of every current user (up to `maxUsers`) into memory, `pageSize`
   * at a time in username order; returns how many it kept. Called before the SIP node
   * listens: after a restart every phone registers again within its refresh interval (all
   * at once after a network outage), and each would otherwise be a miss read from the
   * database in the middle of that storm (bench:sip, 20 000 users: 3 795 registrations/s
   * with the misses, 4 364/s with the users in memory). A page whose read a change notice
   * overtook is not kept (the users it holds are read on their first miss instead).
   */
  async preload(o: { pageSize?: number } = {}): Promise<number> {
    const pageSize = o.pageSize ?? 5_000;
    let after = '';
    let kept = 0;
    while (kept < this.maxUsers) {
      const epoch = this.epoch;
      const rows = (await queryRows(this.db, 'e2p_sip_credentials_page', SIP_CREDENTIALS_PAGE, [after, Math.min(pageSize, this.maxUsers - kept)])) as string[][];
      if (rows.length === 0) break;
      if (epoch === this.epoch) {
        for (const row of rows) this.users.set(row[3]!, credentialsOf(row));
        kept += rows.length;
      }
      after = rows[rows.length - 1]![3]!;
    }
    return kept;
  }

  findSipCredentials(username: string): Promise<SipCredentialsRecord | null> {
    const hit = this.users.get(username);
    if (hit) return Promise.resolve(hit);
    if (this.unknown.has(username)) return Promise.resolve(null);
    const inFlight = this.pending.get(username);
    if (inFlight) return inFlight;
    const read = new Promise<SipCredentialsRecord | null>((resolve, reject) => this.misses.push({ username, resolve, reject }));
    this.pending.set(username, read);
    this.load();
    return read;
  }

  /**
   * Cache misses are read together (a phone's first REGISTER after a restart, 100 000 of
   * them at once): one query per batch, the next batch gathering while one is in flight.
   */
  private load(): void {
    while (this.loading < 2 && this.misses.length > 0) {
      const batch = this.misses.splice(0, 500);
      const epoch = this.epoch;
      this.loading++;
      selectSipCredentialsOf(
        this.db,
        batch.map((m) => m.username),
      )
        .then(
          (found) => {
            for (const m of batch) {
              const f = found.get(m.username) ?? null;
              if (epoch === this.epoch) {
                if (f) this.users.set(f.username, f);
                else this.unknown.set(own(m.username), true);
              }
              m.resolve(f);
            }
          },
          (e: unknown) => batch.forEach((m) => m.reject(e)),
        )
        .finally(() => {
          for (const m of batch) this.pending.delete(m.username);
          this.loading--;
          this.load();
        });
    }
  }

  async findUserByExtension(clientId: string, extension: string): Promise<DirectoryUser | null> {
    const key = own(`${clientId}|${extension}`);
    const hit = this.extensions.get(key);
    if (hit) return hit;
    if (this.noExtension.has(key)) return null;
    const epoch = this.epoch;
    const found = await findUserByExtension(this.db, clientId, extension);
    if (epoch === this.epoch) {
      if (found) {
        this.extensions.set(key, found);
        this.extensionKeys.set(found.username, key);
      } else this.noExtension.set(key, true);
    }
    return found;
  }
}

/**
 * A string of its own: a name parsed out of a SIP message is a slice of the whole
 * message text, which a long-lived map key would keep in memory.
 */
const own = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/**
 * The credential reads of cache misses: one statement for many usernames ($1: a JSON array),
 * columns in the order `selectSipCredentialsOf` reads them. `= ANY (ARRAY(…))` makes the list
 * one array value, so the plan probes `provisioned_users_sip_username_uq` once per name
 * whatever the table's statistics say. Written `IN (SELECT jsonb_array_elements_text(…))`,
 * a table filled since its last ANALYZE (users just provisioned; PGlite, which never
 * analyses) had the planner hash the list and read every user of the table for each batch:
 * 10 ms a batch with 40 000 users instead of 0.03 ms, half a core of PostgreSQL during
 * bench:sip's REGISTERs (exported for the plan test).
 */
export const SIP_CREDENTIALS_OF = `
  SELECT id, client_id, extension, sip_username, sip_realm, ha1_md5, ha1_sha256
  FROM provisioned_users
  WHERE sip_username = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) AND deleted_at IS NULL`;

/** The current users after username $1 in username order, $2 of them (the same columns), by `provisioned_users_sip_username_uq`. */
const SIP_CREDENTIALS_PAGE = `
  SELECT id, client_id, extension, sip_username, sip_realm, ha1_md5, ha1_sha256
  FROM provisioned_users
  WHERE sip_username > $1 AND deleted_at IS NULL
  ORDER BY sip_username
  LIMIT $2`;

/** A row of `SIP_CREDENTIALS_OF` / `SIP_CREDENTIALS_PAGE`. */
const credentialsOf = ([userId, clientId, extension, username, realm, ha1Md5, ha1Sha256]: string[]): SipCredentialsRecord => ({
  userId: userId!,
  clientId: clientId!,
  extension: extension!,
  username: username!,
  realm: realm!,
  ha1Md5: ha1Md5!,
  ha1Sha256: ha1Sha256!,
});

/** The credentials of `usernames` (the known ones), by username. */
async function selectSipCredentialsOf(db: DbOrTx, usernames: readonly string[]): Promise<Map<string, SipCredentialsRecord>> {
  const rows = (await queryRows(db, 'e2p_sip_credentials_of', SIP_CREDENTIALS_OF, [JSON.stringify(usernames)])) as string[][];
  const out = new Map<string, SipCredentialsRecord>();
  for (const row of rows) out.set(row[3]!, credentialsOf(row));
  return out;
}
