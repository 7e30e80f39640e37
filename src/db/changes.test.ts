import { sql } from 'drizzle-orm';
import { afterEach, expect, it, vi } from 'vitest';
import { createTestDatabase, describeEachDb } from '../../test/support/db.ts';
import { notifyChange, openChangeFeed, type ChangeFeed } from './changes.ts';
import { openDatabase, type Database } from './client.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function feedOn(database: Database): Promise<ChangeFeed> {
  const feed = await openChangeFeed(database);
  cleanups.push(() => feed.close());
  return feed;
}

describeEachDb('change notices', (kind) => {
  it('reach another node at commit, never after a rollback, and only the topic subscribed', async () => {
    const t = await createTestDatabase(kind);
    cleanups.push(t.drop);
    // Another process on PostgreSQL: its own pool and its own LISTEN connection.
    const other = t.url ? await openDatabase({ url: t.url }) : t.database;
    if (t.url) cleanups.push(() => other.close());
    const feed = await feedOn(other);
    const users: (string | null)[] = [];
    const clients: (string | null)[] = [];
    feed.on('sip_user', (k) => users.push(k));
    feed.on('client', (k) => clients.push(k));

    await t.database.db
      .transaction(async (tx) => {
        await notifyChange(tx, 'sip_user', 'rolled.back');
        tx.rollback();
      })
      .catch(() => undefined);
    await t.database.db.transaction(async (tx) => {
      await notifyChange(tx, 'sip_user', '100.abc');
      await tx.execute(sql`SELECT 1`);
    });
    // Heard twice: at once in the writer's process (here the same test process), then by NOTIFY at commit.
    await vi.waitFor(() => expect(users.filter((k) => k === '100.abc')).toHaveLength(2), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 100));
    // The rolled-back one only early, in the writer's process: no NOTIFY reaches any node.
    expect(users.filter((k) => k === 'rolled.back')).toHaveLength(1);
    expect(clients).toEqual([]);
  });

  it('an unsubscribed callback hears nothing more', async () => {
    const t = await createTestDatabase(kind);
    cleanups.push(t.drop);
    const feed = await feedOn(t.database);
    const heard: (string | null)[] = [];
    const off = feed.on('client', (k) => heard.push(k));
    await notifyChange(t.database.db, 'client', 'a');
    await vi.waitFor(() => expect(heard).toEqual(['a', 'a']));
    off();
    await notifyChange(t.database.db, 'client', 'b');
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).not.toContain('b');
  });
});

describeEachDb('change notices after a lost connection', (kind) => {
  it.runIf(kind === 'postgres')('tell every subscriber to forget everything, then keep arriving', async () => {
    const t = await createTestDatabase(kind);
    cleanups.push(t.drop);
    const feed = await feedOn(t.database);
    const heard: (string | null)[] = [];
    feed.on('sip_user', (k) => heard.push(k));
    await t.database.db.execute(
      sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`,
    );
    await vi.waitFor(() => expect(heard).toContain(null), { timeout: 10_000 });
    await notifyChange(t.database.db, 'sip_user', 'after');
    await vi.waitFor(() => expect(heard.filter((k) => k === 'after').length).toBe(2)); // local + NOTIFY
  });
});
