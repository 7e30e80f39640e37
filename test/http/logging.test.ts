/**
 * Logs are pino JSON lines carrying the request id; secrets never reach them.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { SimulatedClock } from '../../src/kernel/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { migratedTestDatabase } from '../support/db.ts';
import { seedAccount, type Harness } from './harness.ts';

describe('logs', () => {
  const lines: string[] = [];
  let h: Harness;
  let platform: Platform;

  beforeAll(async () => {
    const created = await migratedTestDatabase('pglite');
    const clock = new SimulatedClock('2027-03-01T09:00:00Z');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    platform = await createPlatform(loadConfig({}), { database: created.database, clock, logger: createLogger('trace', sink) });
    h = {
      platform,
      clock,
      async close() {
        await platform.close();
        await created.drop();
      },
    };
  });
  afterAll(async () => {
    await h.close();
  });

  it('are JSON with the request id, without passwords, cookies or tokens', async () => {
    const staff = await seedAccount(h, 'admin');
    const login = await platform.http.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-request-id': 'req-log-1' },
      payload: { email: staff.email, password: staff.password },
    });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'e2p_session')!.value;
    const tokenRes = await platform.http.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie: `e2p_session=${cookie}` },
      payload: { name: 'ci', scopes: ['read'] },
    });
    expect(tokenRes.statusCode).toBeLessThan(300);
    const token = tokenRes.json<{ token: string }>().token;
    await platform.http.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}`, cookie: `e2p_session=${cookie}` } });
    await platform.http.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: staff.email, password: 'wrong-password-123' } });

    expect(lines.length).toBeGreaterThan(0);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.some((l) => l.reqId === 'req-log-1')).toBe(true);
    const all = lines.join('\n');
    for (const secret of [staff.password, cookie, token, 'wrong-password-123']) expect(all).not.toContain(secret);
  });
});
