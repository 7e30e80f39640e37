/**
 * The Redis admission store's node lifecycle (issue #7): the admissions of a node that
 * died stop counting once its heartbeat lapsed; a node that restarts drops its own.
 * Needs a Redis server: runs only when TEST_REDIS_URL is set (keys under a test prefix).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId } from '../../kernel/ids.ts';
import type { AdmitRequest } from './admission-store.ts';
import { redisAdmissionStore, type RedisAdmissionStore } from './redis-admission-store.ts';

describe.skipIf(!process.env.TEST_REDIS_URL)('Redis admission store: nodes that die or restart [redis]', () => {
  const opened: RedisAdmissionStore[] = [];
  const prefix = `e2p-test-nodes:${randomBytes(6).toString('hex')}:`;
  const open = (nodeId: string, aliveMs = 30_000): RedisAdmissionStore => {
    const s = redisAdmissionStore({ url: process.env.TEST_REDIS_URL!, nodeId, prefix, aliveMs, heartbeatMs: Math.min(5_000, aliveMs / 3) });
    opened.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  const now = Date.now();
  const req = (clientId: string): AdmitRequest => ({
    id: newId(),
    clientId,
    userId: null,
    atMs: now,
    checkLimits: true,
    barred: false,
    occupiesSlot: true,
    spendRate: null,
    maxConcurrent: 2,
    maxAttempts: 20,
    maxSpendMicros: 50_000_000,
    resetMs: 0,
  });

  it('the slots of a node whose heartbeat lapsed are freed by the sweep of another node, not before', { timeout: 20_000 }, async () => {
    const client = newId();
    const a = open('node-a', 2_000);
    const b = open('node-b');
    expect((await a.admit(req(client))).admitted).toBe(true);
    expect((await a.admit(req(client))).admitted).toBe(true);
    expect((await b.admit(req(client))).admitted).toBe(false); // the limit is shared
    expect(await b.reapDeadNodes(now)).toBe(0); // a is alive
    a.stopHeartbeat(); // a dies
    let dropped = 0;
    await vi.waitFor(async () => {
      dropped += await b.reapDeadNodes(now);
      expect(dropped).toBe(2);
    }, { timeout: 10_000, interval: 100 });
    expect((await b.admit(req(client))).admitted).toBe(true);
  });

  it('a node that restarts drops the admissions its previous run left, not those of the other nodes', async () => {
    const client = newId();
    const a = open('node-c');
    const b = open('node-d');
    await a.admit(req(client));
    await b.admit(req(client));
    expect((await b.admit(req(client))).admitted).toBe(false);
    const restarted = open('node-c');
    expect(await restarted.recoverNode(now)).toBe(1);
    expect((await b.admit(req(client))).admitted).toBe(true);
    expect((await b.admit(req(client))).admitted).toBe(false);
  });
});
