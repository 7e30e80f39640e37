import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneAuthState } from '../../src/modules/identity/prune.ts';
import { apiTokens, loginFailures, sessions } from '../../src/modules/identity/schema.ts';
import { base32Decode, hotp } from '../../src/modules/identity/totp.ts';
import { describeEachDb } from '../support/db.ts';
import { call, freshIp, json, loginAs, seedAccount, seedClient, sessionCookie, startHarness, uniqueEmail, type Harness } from './harness.ts';

const MIN = 60_000;

describeEachDb('auth over HTTP', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => h.close());

  const login = (email: string, password: string, ip = freshIp(), totp?: string) =>
    call(h, 'POST', '/api/v1/auth/login', { body: { email, password, ...(totp ? { totp } : {}) }, ip });

  describe('login', () => {
    it('succeeds, sets a hardened cookie and returns the principal', async () => {
      const clientId = await seedClient(h);
      const user = await seedAccount(h, 'client_admin', clientId);
      const res = await login(user.email.toUpperCase(), user.password);
      expect(res.statusCode, res.body).toBe(200);
      const body = json<{ principal: Record<string, unknown>; account: Record<string, unknown> }>(res);
      expect(body.principal).toMatchObject({ kind: 'client', accountId: user.id, role: 'client_admin', clientId, via: 'session' });
      expect(body.account).not.toHaveProperty('passwordHash');
      const cookie = res.cookies.find((c) => c.name === 'e2p_session')!;
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(cookie.secure).toBeFalsy(); // publicUrl is http in this harness
      expect(cookie.value.length).toBeGreaterThanOrEqual(43);
      // Stored as its SHA-256 only.
      const rows = await h.platform.ctx.db.select().from(sessions).where(eq(sessions.accountId, user.id));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.id).not.toContain(cookie.value);
      expect(rows[0]!.id).toMatch(/^[0-9a-f]{64}$/);
      const me = await call(h, 'GET', '/api/v1/auth/me', { cookie: sessionCookie(res) });
      expect(me.statusCode).toBe(200);
      expect(json<{ account: { email: string } }>(me).account.email).toBe(user.email);
    });

    it('answers INVALID_CREDENTIALS alike for a wrong password and an unknown e-mail', async () => {
      const user = await seedAccount(h, 'support');
      const wrong = await login(user.email, 'not-the-password');
      const unknown = await login(uniqueEmail('nobody'), 'whatever-password');
      for (const res of [wrong, unknown]) {
        expect(res.statusCode).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(json(res)).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS', detail: 'Wrong e-mail or password' });
      }
    });

    it('refuses a disabled account with the same answer', async () => {
      const user = await seedAccount(h, 'billing');
      const admin = await seedAccount(h, 'admin');
      const cookie = await loginAs(h, admin);
      expect((await call(h, 'PATCH', `/api/v1/accounts/${user.id}`, { cookie, body: { disabled: true } })).statusCode).toBe(200);
      const res = await login(user.email, user.password);
      expect(json(res)).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    });

    it('locks the account after 5 failures in 15 min, even with the right password, and unlocks 15 min later', async () => {
      const user = await seedAccount(h, 'noc');
      for (let i = 0; i < 5; i++) {
        h.clock.advance(10_000);
        expect((await login(user.email, 'wrong-password-xx')).statusCode).toBe(401);
      }
      const locked = await login(user.email, user.password);
      expect(locked.statusCode).toBe(429);
      expect(json(locked)).toMatchObject({ code: 'ACCOUNT_LOCKED', status: 429 });
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(14 * 60);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
      // Unknown e-mails lock the same way (no enumeration through the lock).
      const ghost = uniqueEmail('ghost');
      for (let i = 0; i < 5; i++) await login(ghost, 'wrong-password-xx');
      expect(json(await login(ghost, 'wrong-password-xx'))).toMatchObject({ code: 'ACCOUNT_LOCKED' });

      h.clock.advance(14 * MIN);
      expect((await login(user.email, user.password)).statusCode).toBe(429);
      h.clock.advance(MIN + 1000);
      const ok = await login(user.email, user.password);
      expect(ok.statusCode, ok.body).toBe(200);
      // The lock was audited.
      const audit = await h.platform.ctx.db.query.auditLog.findMany({ where: (a, { and, eq: e }) => and(e(a.entityId, user.id), e(a.action, 'account.lock')) });
      expect(audit).toHaveLength(1);
    });

    it('refuses a source IP after 20 failures in 15 min (429 TOO_MANY_ATTEMPTS)', async () => {
      const ip = freshIp();
      const user = await seedAccount(h, 'support');
      for (let i = 0; i < 20; i++) {
        expect((await login(uniqueEmail('spray'), 'wrong-password-xx', ip)).statusCode).toBe(401);
      }
      const refused = await login(user.email, user.password, ip);
      expect(refused.statusCode).toBe(429);
      expect(json(refused)).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Another address is not affected.
      expect((await login(user.email, user.password)).statusCode).toBe(200);
      h.clock.advance(15 * MIN);
      expect((await login(user.email, user.password, ip)).statusCode).toBe(200);
    });

    it('validates the body (400 problem with the field)', async () => {
      const res = await call(h, 'POST', '/api/v1/auth/login', { body: { email: 'a@b.c' } });
      expect(res.statusCode).toBe(400);
      expect(json(res)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', field: '/password' });
    });
  });

  describe('sessions', () => {
    it('expire after 30 min idle', async () => {
      const user = await seedAccount(h, 'support');
      const cookie = await loginAs(h, user);
      h.clock.advance(20 * MIN);
      expect((await call(h, 'GET', '/api/v1/auth/me', { cookie })).statusCode).toBe(200);
      h.clock.advance(20 * MIN); // 40 min after login, 20 min idle
      expect((await call(h, 'GET', '/api/v1/auth/me', { cookie })).statusCode).toBe(200);
      h.clock.advance(30 * MIN);
      const res = await call(h, 'GET', '/api/v1/auth/me', { cookie });
      expect(res.statusCode).toBe(401);
      expect(json(res)).toMatchObject({ code: 'SESSION_EXPIRED' });
      expect(res.cookies.find((c) => c.name === 'e2p_session')?.value).toBe('');
      // Gone for good.
      expect(json(await call(h, 'GET', '/api/v1/auth/me', { cookie }))).toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it('expire 12 h after login however active', async () => {
      const user = await seedAccount(h, 'support');
      const cookie = await loginAs(h, user);
      for (let i = 0; i < 28; i++) {
        h.clock.advance(25 * MIN);
        expect((await call(h, 'GET', '/api/v1/auth/me', { cookie })).statusCode).toBe(200);
      }
      h.clock.advance(25 * MIN); // 12 h 05 min, never idle
      expect(json(await call(h, 'GET', '/api/v1/auth/me', { cookie }))).toMatchObject({ status: 401, code: 'SESSION_EXPIRED' });
    });

    it('end at logout', async () => {
      const user = await seedAccount(h, 'support');
      const cookie = await loginAs(h, user);
      const out = await call(h, 'POST', '/api/v1/auth/logout', { cookie });
      expect(out.statusCode).toBe(204);
      expect(out.cookies.find((c) => c.name === 'e2p_session')?.value).toBe('');
      expect(json(await call(h, 'GET', '/api/v1/auth/me', { cookie }))).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    });

    it('are required (401 problem) on every other route', async () => {
      const res = await call(h, 'GET', '/api/v1/clients');
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = json<{ type: string }>(res);
      expect(problem).toMatchObject({ title: 'Unauthorized', status: 401, code: 'UNAUTHENTICATED', instance: '/api/v1/clients', clause: null });
      expect(problem.type).toContain('unauthenticated');
      expect(json(await call(h, 'GET', '/api/v1/clients', { cookie: 'e2p_session=forged' }))).toMatchObject({ code: 'UNAUTHENTICATED' });
    });
  });

  it('housekeeping deletes ended sessions and stale login failures only', async () => {
    const user = await seedAccount(h, 'support');
    const live = await loginAs(h, user);
    await login(user.email, 'wrong-password-xx');
    h.clock.advance(10 * MIN);
    await call(h, 'GET', '/api/v1/auth/me', { cookie: live });
    expect((await pruneAuthState(h.platform.ctx)).sessions).toBeGreaterThanOrEqual(0);
    expect((await call(h, 'GET', '/api/v1/auth/me', { cookie: live })).statusCode).toBe(200);
    h.clock.advance(31 * MIN);
    const pruned = await pruneAuthState(h.platform.ctx);
    expect(pruned.sessions).toBeGreaterThanOrEqual(1);
    expect(pruned.loginFailures).toBeGreaterThanOrEqual(2);
    expect(await h.platform.ctx.db.select().from(sessions).where(eq(sessions.accountId, user.id))).toHaveLength(0);
    expect(await h.platform.ctx.db.select().from(loginFailures).where(eq(loginFailures.key, `account:${user.email}`))).toHaveLength(0);
  });

  describe('API tokens', () => {
    async function tokenFor(role: 'admin' | 'client_admin', scopes: string[], expiresAt?: string) {
      const clientId = role === 'client_admin' ? await seedClient(h) : null;
      const owner = await seedAccount(h, role, clientId);
      const cookie = await loginAs(h, owner);
      const res = await call(h, 'POST', '/api/v1/tokens', { cookie, body: { name: 'ci', scopes, ...(expiresAt ? { expiresAt } : {}) } });
      expect(res.statusCode, res.body).toBe(201);
      const body = json<{ token: string; tokenInfo: { id: string; prefix: string } }>(res);
      return { owner, cookie, clientId, token: body.token, id: body.tokenInfo.id, prefix: body.tokenInfo.prefix };
    }

    it('act as their owner, are stored hashed and record last use', async () => {
      const t = await tokenFor('client_admin', ['read']);
      expect(t.token).toMatch(/^e2p_[A-Za-z0-9]{40}$/);
      expect(t.token.startsWith(t.prefix)).toBe(true);
      const me = await call(h, 'GET', '/api/v1/auth/me', { token: t.token });
      expect(me.statusCode).toBe(200);
      expect(json(me)).toMatchObject({ principal: { accountId: t.owner.id, via: 'token', scopes: ['read'], clientId: t.clientId } });
      const [row] = await h.platform.ctx.db.select().from(apiTokens).where(eq(apiTokens.id, t.id));
      expect(row!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(row!.tokenHash).not.toContain(t.token);
      expect(row!.lastUsedAt?.toISOString()).toBe(h.clock.now().toISOString());
      const list = await call(h, 'GET', '/api/v1/tokens', { cookie: t.cookie });
      expect(list.body).not.toContain(t.token);
    });

    it('are refused once revoked (401 TOKEN_REVOKED)', async () => {
      const t = await tokenFor('admin', ['read', 'write']);
      expect((await call(h, 'DELETE', `/api/v1/tokens/${t.id}`, { cookie: t.cookie })).statusCode).toBe(200);
      expect(json(await call(h, 'GET', '/api/v1/clients', { token: t.token }))).toMatchObject({ status: 401, code: 'TOKEN_REVOKED' });
    });

    it('are refused once expired (401 TOKEN_EXPIRED)', async () => {
      const t = await tokenFor('admin', ['read'], new Date(h.clock.now().getTime() + 60 * MIN).toISOString());
      expect((await call(h, 'GET', '/api/v1/clients', { token: t.token })).statusCode).toBe(200);
      h.clock.advance(60 * MIN);
      expect(json(await call(h, 'GET', '/api/v1/clients', { token: t.token }))).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
    });

    it('are restricted to their scopes (403 INSUFFICIENT_SCOPE) and cannot do session-only things', async () => {
      const t = await tokenFor('admin', ['read']);
      expect((await call(h, 'GET', '/api/v1/clients', { token: t.token })).statusCode).toBe(200);
      const write = await call(h, 'POST', '/api/v1/clients', { token: t.token, body: { name: 'Nope' } });
      expect(write.statusCode).toBe(403);
      expect(json(write)).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
      const w = await tokenFor('admin', ['write']);
      expect((await call(h, 'POST', '/api/v1/clients', { token: w.token, body: { name: 'Yes' } })).statusCode).toBe(201);
      // write is not admin: no identity management, no new tokens.
      expect(json(await call(h, 'POST', '/api/v1/tokens', { token: w.token, body: { name: 'x', scopes: ['read'] } }))).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
      const a = await tokenFor('admin', ['admin']);
      const pw = await call(h, 'POST', `/api/v1/accounts/${a.owner.id}/password`, { token: a.token, body: { currentPassword: a.owner.password, newPassword: 'another-long-password' } });
      expect(json(pw)).toMatchObject({ status: 403, code: 'SESSION_REQUIRED' });
    });

    it('reject a malformed or unknown bearer (401 INVALID_TOKEN)', async () => {
      expect(json(await call(h, 'GET', '/api/v1/clients', { token: 'abc' }))).toMatchObject({ code: 'INVALID_TOKEN' });
      expect(json(await call(h, 'GET', '/api/v1/clients', { token: `e2p_${'A'.repeat(40)}` }))).toMatchObject({ code: 'INVALID_TOKEN' });
      expect(json(await call(h, 'GET', '/api/v1/clients', { headers: { authorization: 'Basic eDp5' } }))).toMatchObject({ code: 'INVALID_TOKEN' });
    });

    it('cannot be created with a past expiry or a scope the caller lacks', async () => {
      const t = await tokenFor('admin', ['admin']);
      const past = await call(h, 'POST', '/api/v1/tokens', { cookie: t.cookie, body: { name: 'old', scopes: ['read'], expiresAt: '2000-01-01T00:00:00Z' } });
      expect(json(past)).toMatchObject({ status: 400, field: '/expiresAt' });
      const bad = await call(h, 'POST', '/api/v1/tokens', { cookie: t.cookie, body: { name: 'x', scopes: ['root'] } });
      expect(bad.statusCode).toBe(400);
    });
  });

  describe('TOTP', () => {
    const codeAt = (secret: string, at: Date, offsetSteps = 0) => hotp(base32Decode(secret), Math.floor(at.getTime() / 30_000) + offsetSteps);

    it('enrols a staff account, then requires a right, unused code at login', async () => {
      const user = await seedAccount(h, 'admin');
      const cookie = await loginAs(h, user);
      const setup = await call(h, 'POST', '/api/v1/auth/totp/setup', { cookie });
      expect(setup.statusCode, setup.body).toBe(200);
      const { secret, otpauthUri } = json<{ secret: string; otpauthUri: string }>(setup);
      expect(otpauthUri).toContain(`secret=${secret}`);
      expect(json(await call(h, 'POST', '/api/v1/auth/totp/enable', { cookie, body: { code: '000000' === codeAt(secret, h.clock.now()) ? '111111' : '000000' } }))).toMatchObject({ status: 400, code: 'INVALID_TOTP' });
      const enable = await call(h, 'POST', '/api/v1/auth/totp/enable', { cookie, body: { code: codeAt(secret, h.clock.now()) } });
      expect(enable.statusCode, enable.body).toBe(200);
      expect(json(enable)).toMatchObject({ totpEnabled: true });

      expect(json(await login(user.email, user.password))).toMatchObject({ status: 401, code: 'MFA_REQUIRED' });
      // The enrolment code's step cannot be replayed.
      expect(json(await login(user.email, user.password, freshIp(), codeAt(secret, h.clock.now())))).toMatchObject({ code: 'INVALID_TOTP' });
      h.clock.advance(30_000);
      expect(json(await login(user.email, user.password, freshIp(), '12345x'))).toMatchObject({ status: 401, code: 'INVALID_TOTP' });
      const wrong = codeAt(secret, h.clock.now(), 5);
      expect(json(await login(user.email, user.password, freshIp(), wrong))).toMatchObject({ status: 401, code: 'INVALID_TOTP' });
      const right = codeAt(secret, h.clock.now());
      const ok = await login(user.email, user.password, freshIp(), right);
      expect(ok.statusCode, ok.body).toBe(200);
      // Same code again: refused (no reuse of a step).
      expect(json(await login(user.email, user.password, freshIp(), right))).toMatchObject({ code: 'INVALID_TOTP' });
      // A wrong password with a right code is still INVALID_CREDENTIALS.
      h.clock.advance(30_000);
      expect(json(await login(user.email, 'wrong-password-xx', freshIp(), codeAt(secret, h.clock.now())))).toMatchObject({ code: 'INVALID_CREDENTIALS' });
      // The secret never reaches the audit log.
      const audit = await call(h, 'GET', `/api/v1/audit?entityId=${user.id}`, { cookie: sessionCookie(ok) });
      expect(audit.statusCode).toBe(200);
      expect(audit.body).not.toContain(secret);
      expect(json<{ items: { action: string }[] }>(audit).items.map((i) => i.action)).toEqual(
        expect.arrayContaining(['account.totp_setup', 'account.totp_enable', 'auth.login']),
      );
    });

    it('is for staff only (403)', async () => {
      const clientId = await seedClient(h);
      const user = await seedAccount(h, 'client_admin', clientId);
      const cookie = await loginAs(h, user);
      expect(json(await call(h, 'POST', '/api/v1/auth/totp/setup', { cookie }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    });
  });
});

describeEachDb('session cookie over https', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { publicUrl: 'https://portal.easy2phone.be' });
  });
  afterAll(async () => h.close());

  it('is Secure when the public URL is https', async () => {
    const user = await seedAccount(h, 'admin');
    const res = await call(h, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(res.cookies.find((c) => c.name === 'e2p_session')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax' });
  });
});
