/**
 * §4.3b concurrency across SIP nodes: two Node processes, each with its own connection
 * pool, decide calls of the same client on one PostgreSQL database at the same instant;
 * together they never admit more than the limit: the per-client advisory lock of the
 * database gate, or (issue #7, fast mode) the atomic Redis script of the admission store
 * (needs TEST_REDIS_URL too). Needs a PostgreSQL server: runs only when TEST_DATABASE_URL is set.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openChangeFeed } from '../../src/db/changes.ts';
import { openDatabase } from '../../src/db/client.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { memoryAdmissionStore } from '../../src/modules/policy/admission-store.ts';
import { fastCallPolicy } from '../../src/modules/policy/fast-call-policy.ts';
import { clients } from '../../src/modules/customers/schema.ts';
import { policyClientSettings, policyDecisions } from '../../src/modules/policy/schema.ts';
import { createTestDatabase } from '../support/db.ts';
import { outboundAttempt } from '../support/call-attempt.ts';

const NODE_SCRIPT = fileURLToPath(new URL('./policy-node.ts', import.meta.url));

function runNode(args: string[]): Promise<{ allowed: number; refused: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', NODE_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`policy node exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim()) as { allowed: number; refused: number });
    });
  });
}

async function twoNodes(mode: { redisUrl: string; prefix: string } | null): Promise<void> {
  {
    const t = await createTestDatabase('postgres');
    try {
      await t.database.migrate();
      const db = t.database.db;
      const now = new Date();
      const clientId = newId(now);
      await db.insert(clients).values({ id: clientId, name: 'Two nodes', createdAt: now });
      await db.insert(policyClientSettings).values({ clientId, maxConcurrentCalls: 7, updatedAt: now });
      for (let round = 0; round < 3; round++) {
        const startAt = String(Date.now() + 3000);
        const fast = (node: string): string[] => (mode ? [mode.redisUrl, mode.prefix, node] : []);
        const [a, b] = await Promise.all([
          runNode([t.url!, clientId, '15', startAt, ...fast('node-a')]),
          runNode([t.url!, clientId, '15', startAt, ...fast('node-b')]),
        ]);
        expect(a.allowed + a.refused + b.allowed + b.refused).toBe(30);
        // the first round fills the 7 slots; later rounds find them full
        expect(a.allowed + b.allowed).toBe(round === 0 ? 7 : 0);
      }
      const admitted = await db
        .select({ id: policyDecisions.id })
        .from(policyDecisions)
        .where(and(eq(policyDecisions.clientId, clientId), eq(policyDecisions.allowed, true)));
      expect(admitted).toHaveLength(7);
    } finally {
      await t.drop();
    }
  }
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('call policy on two processes [postgres]', () => {
  it('database gate: two nodes deciding calls of one client at once never admit more than the limit together', { timeout: 120_000 }, () =>
    twoNodes(null));

  it.skipIf(!process.env.TEST_REDIS_URL)('fast mode (Redis counters): two nodes never admit more than the limit together', { timeout: 120_000 }, () =>
    twoNodes({ redisUrl: process.env.TEST_REDIS_URL!, prefix: `e2p-test-two-nodes:${randomBytes(6).toString('hex')}:` }));

  it('fast mode: a change written by another node reaches the facts cache of this node with the notice', { timeout: 60_000 }, async () => {
    const t = await createTestDatabase('postgres');
    const other = await openDatabase({ url: t.url! }); // another node: its own pool, nothing shared in memory
    const changes = await openChangeFeed(t.database);
    const policy = fastCallPolicy({ db: t.database.db, clock: systemClock, store: memoryAdmissionStore(), changes });
    try {
      await t.database.migrate();
      const clientId = newId(new Date());
      await other.db.insert(clients).values({ id: clientId, name: 'Other node', createdAt: new Date() });
      const call = outboundAttempt(clientId);
      const first = await policy.decide(call);
      expect(first).toMatchObject({ allowed: true }); // the facts are cached now
      await policy.ended(first.admission!, new Date());
      for (const [state, expected] of [
        ['minimum_service', { allowed: false, clause: '8.7' }],
        ['security_suspended', { allowed: false, clause: '9.2' }],
        ['active', { allowed: true }],
      ] as const) {
        const heard = new Promise<void>((resolve) => {
          const off = changes.on('client', (k) => {
            if (k === clientId) {
              off();
              resolve();
            }
          });
        });
        await other.db.update(clients).set({ serviceState: state }).where(eq(clients.id, clientId));
        await heard;
        const d = await policy.decide(call);
        expect(d).toMatchObject(expected);
        if (d.allowed) await policy.ended(d.admission!, new Date());
      }
    } finally {
      await policy.close();
      await changes.close();
      await other.close();
      await t.drop();
    }
  });
});
