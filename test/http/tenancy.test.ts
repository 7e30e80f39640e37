/**
 * test-unauthorized-*-access: a client principal (session or API token) never reaches
 * another tenant's rows, on every route family; each refusal is recorded (§15.3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedClient, startHarness, type Call, type Harness, type Seeded } from './harness.ts';

interface Tenant {
  clientId: string;
  admin: Seeded;
  user: Seeded;
  adminCookie: string;
  tokenId: string;
  token: string;
}

describeEachDb('tenancy', (kind) => {
  let h: Harness;
  let a: Tenant;
  let b: Tenant;
  let staffCookie: string;

  async function tenant(name: string): Promise<Tenant> {
    const clientId = await seedClient(h, name);
    const admin = await seedAccount(h, 'client_admin', clientId, `${name}-admin`);
    const user = await seedAccount(h, 'client_user', clientId, `${name}-user`);
    const adminCookie = await loginAs(h, admin);
    const res = await call(h, 'POST', '/api/v1/tokens', { cookie: adminCookie, body: { name: `${name} integration`, scopes: ['admin'] } });
    const body = json<{ token: string; tokenInfo: { id: string } }>(res);
    return { clientId, admin, user, adminCookie, tokenId: body.tokenInfo.id, token: body.token };
  }

  beforeAll(async () => {
    h = await startHarness(kind);
    a = await tenant('A');
    b = await tenant('B');
    staffCookie = await loginAs(h, await seedAccount(h, 'admin'));
  });
  afterAll(async () => h.close());

  async function deniedEntries(actorId: string, entityId: string) {
    const res = await call(h, 'GET', `/api/v1/audit?action=access.denied&actorId=${actorId}&entityId=${entityId}`, { cookie: staffCookie });
    expect(res.statusCode).toBe(200);
    return json<{ items: { clientId: string | null; entity: string; actorKind: string; after: { reason: string } }[] }>(res).items;
  }

  /** The refusal of another tenant's id looks exactly like an unknown id. */
  function expectNotFound(res: Awaited<ReturnType<typeof call>>) {
    expect(res.statusCode, res.body).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(res)).toMatchObject({ status: 404, code: 'NOT_FOUND', title: 'Not Found' });
  }

  const asAdminA = (): Call => ({ cookie: a.adminCookie });
  const asTokenA = (): Call => ({ token: a.token });

  for (const [label, who] of [
    ['session', asAdminA],
    ['API token', asTokenA],
  ] as const) {
    describe(`client A admin via ${label}`, () => {
      it('test-unauthorized-client-access: cannot read or change client B', async () => {
        expectNotFound(await call(h, 'GET', `/api/v1/clients/${b.clientId}`, who()));
        const patch = await call(h, 'PATCH', `/api/v1/clients/${b.clientId}`, { ...who(), body: { name: 'Pwned' } });
        expect([403, 404]).toContain(patch.statusCode);
        const list = json<{ items: { id: string }[] }>(await call(h, 'GET', '/api/v1/clients', who()));
        expect(list.items.map((c) => c.id)).toEqual([a.clientId]);
        const entries = await deniedEntries(a.admin.id, b.clientId);
        expect(entries.length).toBeGreaterThanOrEqual(2);
        expect(entries[0]).toMatchObject({ clientId: b.clientId, entity: 'client', actorKind: label === 'session' ? 'client' : 'token' });
        // Unchanged.
        const bView = json<{ name: string }>(await call(h, 'GET', `/api/v1/clients/${b.clientId}`, { cookie: b.adminCookie }));
        expect(bView.name).not.toBe('Pwned');
      });

      it('test-unauthorized-account-access: cannot list, read, change or create B accounts', async () => {
        expectNotFound(await call(h, 'GET', `/api/v1/accounts?clientId=${b.clientId}`, who()));
        const own = json<{ items: { clientId: string }[] }>(await call(h, 'GET', '/api/v1/accounts', who()));
        expect(own.items.length).toBe(2);
        expect(new Set(own.items.map((x) => x.clientId))).toEqual(new Set([a.clientId]));
        expectNotFound(await call(h, 'GET', `/api/v1/accounts/${b.user.id}`, who()));
        expectNotFound(await call(h, 'PATCH', `/api/v1/accounts/${b.user.id}`, { ...who(), body: { disabled: true } }));
        expectNotFound(await call(h, 'POST', '/api/v1/accounts', { ...who(), body: { email: 'spy@example.test', role: 'client_user', clientId: b.clientId } }));
        const entries = await deniedEntries(a.admin.id, b.user.id);
        expect(entries.length).toBeGreaterThanOrEqual(2);
        expect(entries[0]).toMatchObject({ clientId: b.clientId, entity: 'account' });
        // B's user is untouched and can still log in.
        await loginAs(h, b.user);
      });

      it('test-unauthorized-token-access: cannot revoke B tokens', async () => {
        expectNotFound(await call(h, 'DELETE', `/api/v1/tokens/${b.tokenId}`, who()));
        expect((await call(h, 'GET', '/api/v1/auth/me', { token: b.token })).statusCode).toBe(200);
        const mine = json<{ items: { accountId: string }[] }>(await call(h, 'GET', '/api/v1/tokens', who()));
        expect(mine.items.every((t) => t.accountId === a.admin.id)).toBe(true);
        expect((await deniedEntries(a.admin.id, b.tokenId))[0]).toMatchObject({ clientId: b.clientId, entity: 'api_token' });
      });

      it('test-unauthorized-audit-access: cannot read the audit log', async () => {
        const res = await call(h, 'GET', '/api/v1/audit', who());
        expect(res.statusCode).toBe(403);
        expect(json(res)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
        const res2 = await call(h, 'GET', `/api/v1/audit?clientId=${b.clientId}`, who());
        expect(res2.statusCode).toBe(403);
      });
    });
  }

  it('another tenant id and an unknown id get the same answer', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000';
    const strip = (r: Awaited<ReturnType<typeof call>>) => {
      const { requestId: _r, instance: _i, detail: _d, ...rest } = json(r);
      return rest;
    };
    expect(strip(await call(h, 'GET', `/api/v1/accounts/${b.admin.id}`, asAdminA()))).toEqual(
      strip(await call(h, 'GET', `/api/v1/accounts/${unknown}`, asAdminA())),
    );
  });

  it('a client user cannot even see its own tenant colleagues nor manage accounts', async () => {
    const cookie = await loginAs(h, a.user);
    expect((await call(h, 'GET', `/api/v1/accounts/${a.user.id}`, { cookie })).statusCode).toBe(200);
    expect((await call(h, 'GET', `/api/v1/accounts/${a.admin.id}`, { cookie })).statusCode).toBe(403);
    expect((await call(h, 'GET', '/api/v1/accounts', { cookie })).statusCode).toBe(403);
    expect((await call(h, 'POST', '/api/v1/accounts', { cookie, body: { email: 'x@example.test', role: 'client_user', clientId: a.clientId } })).statusCode).toBe(403);
    expectNotFound(await call(h, 'GET', `/api/v1/clients/${b.clientId}`, { cookie }));
    expect((await call(h, 'GET', `/api/v1/clients/${a.clientId}`, { cookie })).statusCode).toBe(200);
  });

  it('staff reach every tenant', async () => {
    expect((await call(h, 'GET', `/api/v1/clients/${b.clientId}`, { cookie: staffCookie })).statusCode).toBe(200);
    const list = json<{ items: { clientId: string }[] }>(await call(h, 'GET', `/api/v1/accounts?clientId=${b.clientId}`, { cookie: staffCookie }));
    expect(list.items.map((x) => x.clientId)).toEqual([b.clientId, b.clientId]);
    expect((await call(h, 'GET', `/api/v1/accounts/${b.user.id}`, { cookie: staffCookie })).statusCode).toBe(200);
  });
});
