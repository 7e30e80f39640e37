import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/db.ts';
import { testContext } from '../../test/support/context.ts';
import { RuleViolation } from '../kernel/errors.ts';
import { buildHttpServer, type HttpServer, type RoutePlugin } from './server.ts';

const probe: RoutePlugin = async (app) => {
  app.post(
    '/probe',
    {
      schema: {
        body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
    },
    async (request) => {
      if (request.body.name === 'refuse') throw new RuleViolation('USER_REDUCTION_LIMIT', '8.5', 'below the quarterly floor');
      if (request.body.name === 'crash') throw new Error('secret internal detail');
      return { ok: true };
    },
  );
};

describe('HTTP server', () => {
  let app: HttpServer;
  let drop: () => Promise<void>;
  let closeDb: () => Promise<void>;

  beforeAll(async () => {
    const t = await createTestDatabase('pglite');
    drop = t.drop;
    closeDb = () => t.database.close();
    app = await buildHttpServer(testContext(t.database), [probe]);
  });
  afterAll(async () => {
    await app.close();
    await drop();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'pglite' });
  });

  it('exposes Prometheus metrics', async () => {
    await app.inject('/healthz');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('e2p_http_request_duration_seconds_bucket');
  });

  it('publishes the OpenAPI document with problem responses on every API route', async () => {
    const res = await app.inject('/api/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    const op = doc.paths['/api/v1/probe']?.post;
    expect(op).toBeDefined();
    for (const status of ['200', '400', '401', '403', '404', '409', '422']) expect(op!.responses[status]).toBeDefined();
    expect((await app.inject('/api/docs')).statusCode).toBeLessThan(400);
  });

  it('gives a 400 problem naming the missing field', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/probe', payload: { count: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const p = res.json<Record<string, unknown>>();
    expect(p).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', field: '/name', clause: null, instance: '/api/v1/probe' });
    expect(p.requestId).toBe(res.headers['x-request-id']);
  });

  it('names a wrongly typed field and an unknown one', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/v1/probe', payload: { name: 'x', count: -1 } });
    expect(bad.json()).toMatchObject({ status: 400, field: '/count' });
    const extra = await app.inject({ method: 'POST', url: '/api/v1/probe', payload: { name: 'x', count: 1, evil: true } });
    expect(extra.json()).toMatchObject({ status: 400, field: '/evil' });
  });

  it('never answers 500 to a malformed body', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/probe', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 400, field: '/' });
    const wrongType = await app.inject({ method: 'POST', url: '/api/v1/probe', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.headers['content-type']).toContain('application/problem+json');
  });

  it('maps a rule refusal to 422 with its clause', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/probe', payload: { name: 'refuse', count: 1 } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'USER_REDUCTION_LIMIT', clause: '8.5', status: 422, detail: 'below the quarterly floor' });
  });

  it('hides internal errors behind a 500 problem with the request id', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/probe', headers: { 'x-request-id': 'trace-42' }, payload: { name: 'crash', count: 1 } });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internal detail');
    expect(res.json()).toMatchObject({ code: 'INTERNAL_ERROR', requestId: 'trace-42' });
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await app.inject('/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
  });

  it('reports not ready when the database is gone', async () => {
    await closeDb();
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
  });
});
