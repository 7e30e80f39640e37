import { sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { describeEachDb, migratedTestDatabase, useMigratedDatabase } from '../../../test/support/db.ts';
import { explainAnalyzed } from '../../../test/support/plan.ts';
import { openChangeFeed } from '../../db/changes.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { CachedSipDirectory, SIP_CREDENTIALS_OF, type SipUserChanges } from './sip-directory.ts';

const CLIENT = newId();

/** A change feed that only says what the test tells it: what the cache keeps without notices shows. */
function manualFeed(): SipUserChanges & { emit(key: string | null): void } {
  const subscribers = new Set<(key: string | null) => void>();
  return {
    on(_topic, fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    emit(key) {
      for (const fn of subscribers) fn(key);
    },
  };
}

async function addUser(database: Database, extension: string, ha1: string): Promise<string> {
  const username = `${extension}.tst`;
  await database.db.execute(sql`
    INSERT INTO provisioned_users (id, client_id, extension, sip_username, sip_realm, ha1_md5, ha1_sha256, credentials_set_at, created_at)
    VALUES (${newId()}::uuid, ${CLIENT}::uuid, ${extension}, ${username}, 'pbx.test', ${ha1}, ${ha1}, now(), now())`);
  return username;
}

const setHa1 = (database: Database, username: string, ha1: string): Promise<unknown> =>
  database.db.execute(sql`UPDATE provisioned_users SET ha1_md5 = ${ha1} WHERE sip_username = ${username}`);

describeEachDb('CachedSipDirectory', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  it('answers from memory once read (known and unknown users) until a notice names the user', async () => {
    const feed = manualFeed();
    const cache = new CachedSipDirectory(database.db, feed);
    const alice = await addUser(database, '101', 'a1');
    expect((await cache.findSipCredentials(alice))?.ha1Md5).toBe('a1');
    expect(await cache.findSipCredentials('102.tst')).toBeNull();
    expect((await cache.findUserByExtension(CLIENT, '101'))?.username).toBe(alice);
    expect(await cache.findUserByExtension(CLIENT, '102')).toBeNull();
    await setHa1(database, alice, 'a2');
    const bob = await addUser(database, '102', 'b1');
    // No notice delivered: the cache still says what it read.
    expect((await cache.findSipCredentials(alice))?.ha1Md5).toBe('a1');
    expect(await cache.findSipCredentials(bob)).toBeNull();
    feed.emit(alice);
    expect((await cache.findSipCredentials(alice))?.ha1Md5).toBe('a2');
    expect(await cache.findSipCredentials(bob)).toBeNull();
    // A new user may take an extension remembered as free: any notice forgets those.
    expect((await cache.findUserByExtension(CLIENT, '102'))?.username).toBe(bob);
    feed.emit(bob);
    expect((await cache.findSipCredentials(bob))?.ha1Md5).toBe('b1');
    await setHa1(database, bob, 'b2');
    feed.emit(null);
    expect((await cache.findSipCredentials(bob))?.ha1Md5).toBe('b2');
    cache.close();
  });

  it('keeps at most maxUnknown unknown names, and never keeps a read that a notice overtook', async () => {
    const feed = manualFeed();
    const cache = new CachedSipDirectory(database.db, feed, { maxUnknown: 2 });
    for (const name of ['201.tst', '202.tst', '203.tst']) expect(await cache.findSipCredentials(name)).toBeNull();
    const first = await addUser(database, '201', 'c1');
    const third = await addUser(database, '203', 'e1');
    expect((await cache.findSipCredentials(first))?.ha1Md5).toBe('c1'); // evicted, read again
    expect(await cache.findSipCredentials(third)).toBeNull(); // still remembered as unknown
    // A notice arriving while a read is in flight: that read is answered, not kept.
    const inFlight = cache.findSipCredentials('204.tst');
    feed.emit('unrelated.tst');
    expect(await inFlight).toBeNull();
    const late = await addUser(database, '204', 'f1');
    expect((await cache.findSipCredentials(late))?.ha1Md5).toBe('f1');
    cache.close();
  });

  it('reads misses arriving together in one batch, each answered with its own row', async () => {
    const cache = new CachedSipDirectory(database.db, manualFeed());
    const names = await Promise.all(['501', '502', '503'].map((e, i) => addUser(database, e, `k${i}`)));
    const asked = [...names, '599.tst', names[0]!, ...Array.from({ length: 600 }, (_, i) => `x${i}.tst`)];
    const found = await Promise.all(asked.map((n) => cache.findSipCredentials(n)));
    expect(found.slice(0, 5).map((f) => f?.ha1Md5 ?? null)).toEqual(['k0', 'k1', 'k2', null, 'k0']);
    expect(found.slice(5).every((f) => f === null)).toBe(true);
    cache.close();
  });

  it('reads a batch of misses by probing the username index, even when the statistics predate most users', async () => {
    // Statistics taken with one user, then 3 000 more: the planner believes the table tiny.
    // Written as IN (SELECT jsonb_array_elements_text(…)), the statement then read all
    // 3 001 users for every batch (hash of the list); it must read only the names asked.
    await addUser(database, '100', 'a');
    await database.db.execute(sql`ANALYZE provisioned_users`);
    await database.db.execute(sql`
      INSERT INTO provisioned_users (id, client_id, extension, sip_username, sip_realm, ha1_md5, ha1_sha256, credentials_set_at, created_at)
      SELECT gen_random_uuid(), ${CLIENT}::uuid, (1000 + g)::text, (1000 + g) || '.tst', 'pbx.test', 'h', 'h', now(), now()
      FROM generate_series(1, 3000) g`);
    const names = ['1001.tst', '2500.tst', '100.tst', 'nobody.tst'];
    const text = SIP_CREDENTIALS_OF.replace('$1::jsonb', `'${JSON.stringify(names)}'::jsonb`);
    const nodes = await explainAnalyzed(database, text);
    // Every node reading provisioned_users (a scan of the table, or of one of its indexes) returns at most the names asked.
    const reads = nodes.filter((n) => n['Relation Name'] === 'provisioned_users' || n['Index Name']?.startsWith('provisioned_users') === true);
    expect(reads.length).toBeGreaterThan(0);
    for (const n of reads) expect(n['Actual Rows'] * n['Actual Loops'], JSON.stringify(n['Node Type'])).toBeLessThanOrEqual(names.length);
    const cache = new CachedSipDirectory(database.db, manualFeed());
    expect((await Promise.all(names.map((n) => cache.findSipCredentials(n)))).map((c) => c?.extension ?? null)).toEqual(['1001', '2500', '100', null]);
    cache.close();
  });

  it('preloads every current user page by page, up to maxUsers, then answers them without reading the database', async () => {
    await database.db.execute(sql`DELETE FROM provisioned_users`); // the users of the tests above
    const names = await Promise.all(['701', '702', '703', '704', '705'].map((e, i) => addUser(database, e, `p${i}`)));
    await database.db.execute(sql`UPDATE provisioned_users SET deleted_at = now() WHERE sip_username = ${names[4]!}`);
    const cache = new CachedSipDirectory(database.db, manualFeed());
    expect(await cache.preload({ pageSize: 2 })).toBe(4);
    // Changed behind its back (no notice): the answers come from memory.
    await database.db.execute(sql`UPDATE provisioned_users SET ha1_md5 = 'changed'`);
    expect((await Promise.all(names.map((n) => cache.findSipCredentials(n)))).map((c) => c?.ha1Md5 ?? null)).toEqual(['p0', 'p1', 'p2', 'p3', null]);
    cache.close();
    const small = new CachedSipDirectory(database.db, manualFeed(), { maxUsers: 3 });
    expect(await small.preload({ pageSize: 2 })).toBe(3);
    expect((await small.findSipCredentials(names[3]!))?.ha1Md5).toBe('changed'); // the fourth was not kept: read on its miss
    small.close();
  });

  it('does not keep a preloaded page that a change notice overtook', async () => {
    await database.db.execute(sql`DELETE FROM provisioned_users`);
    const names = await Promise.all(['801', '802', '803'].map((e, i) => addUser(database, e, `q${i}`)));
    const feed = manualFeed();
    const cache = new CachedSipDirectory(database.db, feed);
    const preloading = cache.preload({ pageSize: 2 });
    feed.emit(names[0]!); // arrives while the first page is being read
    expect(await preloading).toBe(1);
    await database.db.execute(sql`UPDATE provisioned_users SET ha1_md5 = 'new' WHERE sip_username IN (${names[0]!}, ${names[1]!}, ${names[2]!})`);
    expect((await Promise.all(names.map((n) => cache.findSipCredentials(n)))).map((c) => c?.ha1Md5)).toEqual(['new', 'new', 'q2']);
    cache.close();
  });

  it('forgets a user when provisioned_users changes, whoever writes (trigger → change feed)', async () => {
    const feed = await openChangeFeed(database);
    const cache = new CachedSipDirectory(database.db, feed);
    try {
      const carol = await addUser(database, '301', 'g1');
      expect((await cache.findSipCredentials(carol))?.ha1Md5).toBe('g1');
      await setHa1(database, carol, 'g2');
      await vi.waitFor(async () => expect((await cache.findSipCredentials(carol))?.ha1Md5).toBe('g2'), { timeout: 5_000 });
      await database.db.execute(sql`UPDATE provisioned_users SET deleted_at = now() WHERE sip_username = ${carol}`);
      await vi.waitFor(async () => expect(await cache.findSipCredentials(carol)).toBeNull(), { timeout: 5_000 });
    } finally {
      cache.close();
      await feed.close();
    }
  });
});

describe('CachedSipDirectory on two SIP nodes (two database handles on one PostgreSQL)', () => {
  it.runIf(process.env.TEST_DATABASE_URL !== undefined)('a password changed through one node reaches the other within the notice delay', async () => {
    const { database: a, url, drop } = await migratedTestDatabase('postgres');
    const b = await openDatabase({ url });
    const feed = await openChangeFeed(b);
    const cache = new CachedSipDirectory(b.db, feed);
    try {
      const dave = await addUser(a, '401', 'h1');
      expect((await cache.findSipCredentials(dave))?.ha1Md5).toBe('h1');
      await setHa1(a, dave, 'h2');
      await vi.waitFor(async () => expect((await cache.findSipCredentials(dave))?.ha1Md5).toBe('h2'), { timeout: 5_000 });
    } finally {
      cache.close();
      await feed.close();
      await b.close();
      await drop();
    }
  });
});
