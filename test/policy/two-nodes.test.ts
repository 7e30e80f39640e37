/**
 * §4.3b concurrency across SIP nodes: two Node processes, each with its own connection
 * pool, decide calls of the same client on one PostgreSQL database at the same instant;
 * together they never admit more than the limit (the per-client advisory lock of
 * `decide`). Needs a PostgreSQL server: runs only when TEST_DATABASE_URL is set.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/kernel/ids.ts';
import { clients } from '../../src/modules/customers/schema.ts';
import { policyClientSettings, policyDecisions } from '../../src/modules/policy/schema.ts';
import { createTestDatabase } from '../support/db.ts';

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

describe.skipIf(!process.env.TEST_DATABASE_URL)('call policy on two processes [postgres]', () => {
  it('two nodes deciding calls of one client at once never admit more than the limit together', { timeout: 120_000 }, async () => {
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
        const [a, b] = await Promise.all([runNode([t.url!, clientId, '15', startAt]), runNode([t.url!, clientId, '15', startAt])]);
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
  });
});
