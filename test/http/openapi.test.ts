import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../support/db.ts';
import { call, startHarness, type Harness } from './harness.ts';

interface Operation {
  requestBody?: unknown;
  parameters?: { in: string; name: string }[];
  responses?: Record<string, unknown>;
  security?: unknown[];
}

describeEachDb('OpenAPI document', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => h.close());

  it('documents every /api/v1 operation with its request and response schemas and problems', async () => {
    const res = await call(h, 'GET', '/api/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ paths: Record<string, Record<string, Operation>> }>();
    const ops = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api/v1/'))
      .flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ id: `${m.toUpperCase()} ${p}`, method: m, op })));
    const expected = [
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/logout',
      'GET /api/v1/auth/me',
      'POST /api/v1/auth/totp/setup',
      'POST /api/v1/auth/totp/enable',
      'POST /api/v1/tokens',
      'GET /api/v1/tokens',
      'DELETE /api/v1/tokens/{id}',
      'POST /api/v1/accounts',
      'GET /api/v1/accounts',
      'GET /api/v1/accounts/{id}',
      'PATCH /api/v1/accounts/{id}',
      'POST /api/v1/accounts/{id}/password',
      'POST /api/v1/clients',
      'GET /api/v1/clients',
      'GET /api/v1/clients/{clientId}',
      'PATCH /api/v1/clients/{clientId}',
      'GET /api/v1/audit',
    ];
    expect(ops.map((o) => o.id)).toEqual(expect.arrayContaining(expected));
    for (const { id, method, op } of ops.filter((o) => expected.includes(o.id))) {
      const statuses = Object.keys(op.responses ?? {});
      expect(statuses.some((s) => /^2\d\d$/.test(s)), `${id} success response`).toBe(true);
      expect(statuses, `${id} problems`).toEqual(expect.arrayContaining(['400', '401', '403', '404']));
      if ((method === 'post' || method === 'patch') && !/logout|totp\/setup/.test(id)) {
        expect(op.requestBody, `${id} body`).toBeDefined();
      }
    }
    expect(doc.paths['/api/v1/auth/login']!.post!.security).toEqual([]);
  });
});
