import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/modules/audit/schema.ts';
import { ensureFirstAdmin } from '../../src/modules/identity/first-admin.ts';
import { describeEachDb } from '../support/db.ts';
import { call, FAST_COST, json, loginAs, seedAccount, seedClient, startHarness, uniqueEmail, type Harness } from './harness.ts';

interface AccountBody {
  account: { id: string; email: string; role: string; clientId: string | null };
  initialPassword?: string;
}

describeEachDb('accounts', (kind) => {
  let h: Harness;
  let adminCookie: string;
  beforeAll(async () => {
    h = await startHarness(kind);
    adminCookie = await loginAs(h, await seedAccount(h, 'admin'));
  });
  afterAll(async () => h.close());

  describe('creation', () => {
    it('an admin creates a staff account; the generated password is shown once and works', async () => {
      const email = uniqueEmail('Billing');
      const res = await call(h, 'POST', '/api/v1/accounts', { cookie: adminCookie, body: { email, name: 'Bea', role: 'billing' } });
      expect(res.statusCode, res.body).toBe(201);
      const body = json<AccountBody>(res);
      expect(body.account).toMatchObject({ email: email.toLowerCase(), role: 'billing', clientId: null });
      expect(body.initialPassword).toMatch(/^[A-Za-z0-9]{24}$/);
      expect(res.body).not.toContain('scrypt');
      await loginAs(h, { email, password: body.initialPassword! });
      // Audited with the view after, no secret.
      const audit = json<{ items: { action: string; before: unknown; after: Record<string, unknown> }[] }>(
        await call(h, 'GET', `/api/v1/audit?entity=account&entityId=${body.account.id}&action=account.create`, { cookie: adminCookie }),
      );
      expect(audit.items).toHaveLength(1);
      expect(audit.items[0]!.before).toBeNull();
      expect(audit.items[0]!.after).toMatchObject({ id: body.account.id, role: 'billing' });
      expect(JSON.stringify(audit.items[0])).not.toMatch(/scrypt|passwordHash|initialPassword/);
    });

    it('no audit row anywhere holds a password hash, token hash or TOTP secret', async () => {
      const rows = await h.platform.ctx.db.select({ before: auditLog.before, after: auditLog.after }).from(auditLog);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(JSON.stringify(row)).not.toMatch(/scrypt\$|passwordHash|tokenHash|totpSecret|e2p_[A-Za-z0-9]{40}/);
      }
    });

    it('refuses duplicates (409), weak passwords and missing or misplaced clientId (400 with field)', async () => {
      const existing = await seedAccount(h, 'noc');
      const dup = await call(h, 'POST', '/api/v1/accounts', { cookie: adminCookie, body: { email: existing.email.toUpperCase(), role: 'noc' } });
      expect(json(dup)).toMatchObject({ status: 409, code: 'EMAIL_TAKEN' });
      const weak = await call(h, 'POST', '/api/v1/accounts', { cookie: adminCookie, body: { email: uniqueEmail('w'), role: 'noc', password: 'short' } });
      expect(json(weak)).toMatchObject({ status: 400, field: '/password', code: 'WEAK_PASSWORD' });
      const noClient = await call(h, 'POST', '/api/v1/accounts', { cookie: adminCookie, body: { email: uniqueEmail('c'), role: 'client_user' } });
      expect(json(noClient)).toMatchObject({ status: 400, field: '/clientId' });
      const clientId = await seedClient(h);
      const staffWithClient = await call(h, 'POST', '/api/v1/accounts', { cookie: adminCookie, body: { email: uniqueEmail('c'), role: 'support', clientId } });
      expect(json(staffWithClient)).toMatchObject({ status: 400, field: '/clientId' });
      const unknownClient = await call(h, 'POST', '/api/v1/accounts', {
        cookie: adminCookie,
        body: { email: uniqueEmail('c'), role: 'client_user', clientId: '01900000-0000-7000-8000-000000000000' },
      });
      expect(json(unknownClient)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      const badEmail = await call(h, 'POST', '/api/v1/accounts', { cookie: adminCookie, body: { email: 'not-an-email', role: 'noc' } });
      expect(json(badEmail)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', field: '/email' });
      const missing = await call(h, 'POST', '/api/v1/accounts', { cookie: adminCookie, body: { role: 'noc' } });
      expect(json(missing)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', field: '/email' });
    });

    it('role refusals (403): support cannot create staff, billing cannot invite, client_admin only its client roles', async () => {
      const clientId = await seedClient(h);
      const support = await loginAs(h, await seedAccount(h, 'support'));
      expect((await call(h, 'POST', '/api/v1/accounts', { cookie: support, body: { email: uniqueEmail('s'), role: 'noc' } })).statusCode).toBe(403);
      const invited = await call(h, 'POST', '/api/v1/accounts', { cookie: support, body: { email: uniqueEmail('ca'), role: 'client_admin', clientId } });
      expect(invited.statusCode, invited.body).toBe(201);
      const billing = await loginAs(h, await seedAccount(h, 'billing'));
      const refused = await call(h, 'POST', '/api/v1/accounts', { cookie: billing, body: { email: uniqueEmail('x'), role: 'client_user', clientId } });
      expect(json(refused)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      const ca = await loginAs(h, { email: json<AccountBody>(invited).account.email, password: json<AccountBody>(invited).initialPassword! });
      const own = await call(h, 'POST', '/api/v1/accounts', { cookie: ca, body: { email: uniqueEmail('cu'), role: 'client_user', clientId } });
      expect(own.statusCode, own.body).toBe(201);
      expect((await call(h, 'POST', '/api/v1/accounts', { cookie: ca, body: { email: uniqueEmail('st'), role: 'admin' } })).statusCode).toBe(403);
      // Role refusals are recorded too.
      const audit = json<{ items: { after: { reason: string } }[] }>(await call(h, 'GET', '/api/v1/audit?action=access.denied&limit=200', { cookie: adminCookie }));
      expect(audit.items.some((i) => i.after.reason === 'role')).toBe(true);
    });

    it('staff-only routes refuse clients (403) and the audit log refuses nobody on staff', async () => {
      const clientId = await seedClient(h);
      const ca = await loginAs(h, await seedAccount(h, 'client_admin', clientId));
      expect(json(await call(h, 'POST', '/api/v1/clients', { cookie: ca, body: { name: 'X' } }))).toMatchObject({ status: 403 });
      for (const role of ['billing', 'support', 'noc'] as const) {
        const cookie = await loginAs(h, await seedAccount(h, role));
        expect((await call(h, 'GET', '/api/v1/audit', { cookie })).statusCode).toBe(200);
        expect((await call(h, 'POST', '/api/v1/clients', { cookie, body: { name: 'X' } })).statusCode).toBe(403);
      }
    });
  });

  describe('changes', () => {
    it('nobody changes their own role or disables themselves; names are free', async () => {
      const me = await seedAccount(h, 'admin');
      const cookie = await loginAs(h, me);
      expect((await call(h, 'PATCH', `/api/v1/accounts/${me.id}`, { cookie, body: { role: 'noc' } })).statusCode).toBe(403);
      expect((await call(h, 'PATCH', `/api/v1/accounts/${me.id}`, { cookie, body: { disabled: true } })).statusCode).toBe(403);
      const renamed = await call(h, 'PATCH', `/api/v1/accounts/${me.id}`, { cookie, body: { name: 'Me Myself' } });
      expect(json(renamed)).toMatchObject({ name: 'Me Myself' });
    });

    it('a client_admin disables a user of its client: the sessions end and the change is audited', async () => {
      const clientId = await seedClient(h);
      const ca = await loginAs(h, await seedAccount(h, 'client_admin', clientId));
      const user = await seedAccount(h, 'client_user', clientId);
      const userCookie = await loginAs(h, user);
      const res = await call(h, 'PATCH', `/api/v1/accounts/${user.id}`, { cookie: ca, body: { disabled: true, role: 'client_admin' } });
      expect(res.statusCode, res.body).toBe(200);
      expect(json(res)).toMatchObject({ disabled: true, role: 'client_admin' });
      expect((await call(h, 'GET', '/api/v1/auth/me', { cookie: userCookie })).statusCode).toBe(401);
      const audit = json<{ items: { action: string; before: { disabled: boolean }; after: { disabled: boolean }; clientId: string }[] }>(
        await call(h, 'GET', `/api/v1/audit?entityId=${user.id}&action=account.disable`, { cookie: adminCookie }),
      );
      expect(audit.items[0]).toMatchObject({ before: { disabled: false, role: 'client_user' }, after: { disabled: true, role: 'client_admin' }, clientId });
      // A staff role cannot be granted to a client account.
      const kindChange = await call(h, 'PATCH', `/api/v1/accounts/${user.id}`, { cookie: adminCookie, body: { role: 'admin' } });
      expect(json(kindChange)).toMatchObject({ status: 400, field: '/role', code: 'ROLE_KIND_CHANGE' });
    });

    it('own password change needs the current one and ends the other sessions; an admin can reset', async () => {
      const user = await seedAccount(h, 'support');
      const first = await loginAs(h, user);
      const second = await loginAs(h, user);
      const wrong = await call(h, 'POST', `/api/v1/accounts/${user.id}/password`, { cookie: second, body: { currentPassword: 'nope-nope-nope', newPassword: 'a-new-long-password' } });
      expect(json(wrong)).toMatchObject({ status: 400, field: '/currentPassword' });
      const ok = await call(h, 'POST', `/api/v1/accounts/${user.id}/password`, { cookie: second, body: { currentPassword: user.password, newPassword: 'a-new-long-password' } });
      expect(ok.statusCode, ok.body).toBe(204);
      expect((await call(h, 'GET', '/api/v1/auth/me', { cookie: second })).statusCode).toBe(200);
      expect((await call(h, 'GET', '/api/v1/auth/me', { cookie: first })).statusCode).toBe(401);
      await loginAs(h, { email: user.email, password: 'a-new-long-password' });
      // Someone else's password: admin only.
      const other = await seedAccount(h, 'noc');
      expect((await call(h, 'POST', `/api/v1/accounts/${other.id}/password`, { cookie: second, body: { newPassword: 'hijacked-password' } })).statusCode).toBe(403);
      expect((await call(h, 'POST', `/api/v1/accounts/${other.id}/password`, { cookie: adminCookie, body: { newPassword: 'reset-by-admin-1' } })).statusCode).toBe(204);
      await loginAs(h, { email: other.email, password: 'reset-by-admin-1' });
    });

    it('problem+json: 404 for an unknown account, 400 for a malformed id', async () => {
      const res = await call(h, 'GET', '/api/v1/accounts/01900000-0000-7000-8000-000000000001', { cookie: adminCookie });
      expect(res.statusCode).toBe(404);
      const problem = json<{ type: string; requestId: unknown }>(res);
      expect(problem).toMatchObject({ status: 404, code: 'NOT_FOUND', clause: null });
      expect(problem.type).toContain('not-found');
      expect(typeof problem.requestId).toBe('string');
      const bad = await call(h, 'GET', '/api/v1/accounts/not-a-uuid', { cookie: adminCookie });
      expect(json(bad)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', field: 'params:/id' });
    });
  });
});

describeEachDb('ensureFirstAdmin', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => h.close());

  it('creates the first admin once, with a generated password returned only then', async () => {
    const first = await ensureFirstAdmin(h.platform.ctx, { email: 'Boss@Easy2Phone.test', passwordCost: FAST_COST });
    expect(first).toMatchObject({ created: true, email: 'boss@easy2phone.test' });
    expect(first.password?.length).toBeGreaterThanOrEqual(20);
    const again = await ensureFirstAdmin(h.platform.ctx, { email: 'other@easy2phone.test' });
    expect(again).toEqual({ created: false, email: 'other@easy2phone.test' });
    const cookie = await loginAs(h, { email: first.email, password: first.password! });
    const me = json<{ principal: { role: string; kind: string } }>(await call(h, 'GET', '/api/v1/auth/me', { cookie }));
    expect(me.principal).toMatchObject({ role: 'admin', kind: 'staff' });
    const audit = json<{ items: { actorKind: string }[] }>(await call(h, 'GET', '/api/v1/audit?action=account.create', { cookie }));
    expect(audit.items[0]).toMatchObject({ actorKind: 'system' });
  });
});
