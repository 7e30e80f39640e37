/**
 * Provisioning over HTTP: users and SIP credentials (§2.2, §4.4, §8.5, §13.1), numbers
 * (§3, §3.6, §8.6) and the tenancy of both (test-unauthorized-*-access, §15.3).
 * The contract state comes from the customers module; it is stubbed here per client.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ha1 } from '../../src/sip/digest.ts';
import { auditLog } from '../../src/modules/audit/schema.ts';
import { contractStates } from '../support/contract-state-stub.ts';
import { provisionedUsers } from '../../src/modules/provisioning/schema.ts';
import { findDidTarget, findSipCredentials, findUserByExtension } from '../../src/modules/provisioning/sip-directory.ts';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedClient, startHarness, type Harness, type Seeded } from './harness.ts';

vi.mock('../../src/modules/customers/contract-status.ts', async (importOriginal) =>
  (await import('../support/contract-state-stub.ts')).stubContractStatus(importOriginal),
);

interface Created {
  user: { id: string; extension: string; sipUsername: string; clientId: string };
  credentials: { username: string; realm: string; password: string };
}

describeEachDb('provisioning users', (kind) => {
  let h: Harness;
  let staff: string;
  let support: string;
  let clientA: string;
  let clientB: string;
  let adminA: string;
  let userA: string;
  let adminB: string;

  let staffAccount: Seeded;
  let supportAccount: Seeded;

  /** Sessions expire when the clock jumps: log in again. */
  async function relogin(admin: Seeded) {
    return { staff: await loginAs(h, staffAccount), support: await loginAs(h, supportAccount), admin: await loginAs(h, admin) };
  }

  beforeAll(async () => {
    h = await startHarness(kind);
    staffAccount = await seedAccount(h, 'admin');
    supportAccount = await seedAccount(h, 'support');
    staff = await loginAs(h, staffAccount);
    support = await loginAs(h, supportAccount);
    clientA = await seedClient(h, 'A');
    clientB = await seedClient(h, 'B');
    contractStates.set(clientA, 'active');
    contractStates.set(clientB, 'signed');
    adminA = await loginAs(h, await seedAccount(h, 'client_admin', clientA));
    userA = await loginAs(h, await seedAccount(h, 'client_user', clientA));
    adminB = await loginAs(h, await seedAccount(h, 'client_admin', clientB));
  });
  afterAll(async () => h.close());

  const createUser = (clientId: string, extension: string, cookie = staff) =>
    call(h, 'POST', `/api/v1/clients/${clientId}/users`, { cookie, body: { extension } });

  it('creates a user: the password is shown once, only the HA1 hashes are stored', async () => {
    const res = await createUser(clientA, '201', adminA);
    expect(res.statusCode, res.body).toBe(201);
    const body = json<Created>(res);
    const realm = h.platform.ctx.config.sip.domain;
    expect(body.credentials.realm).toBe(realm);
    expect(body.credentials.username).toBe(body.user.sipUsername);
    expect(body.credentials.username).toMatch(/^201\.[0-9a-f]{12}$/);
    expect(body.credentials.password).toMatch(/^[A-Za-z0-9]{20,}$/);
    const [row] = await h.platform.ctx.db.select().from(provisionedUsers).where(eq(provisionedUsers.id, body.user.id));
    expect(row!.ha1Md5).toBe(ha1('MD5', body.credentials.username, realm, body.credentials.password));
    expect(row!.ha1Sha256).toBe(ha1('SHA-256', body.credentials.username, realm, body.credentials.password));
    expect(JSON.stringify(row)).not.toContain(body.credentials.password);
    // never shown again
    const read = await call(h, 'GET', `/api/v1/clients/${clientA}/users/${body.user.id}`, { cookie: adminA });
    expect(read.statusCode).toBe(200);
    expect(read.body).not.toContain(body.credentials.password);
    expect(read.body).not.toContain(row!.ha1Md5);
    // nor in the audit log
    const audit = await h.platform.ctx.db.select().from(auditLog).where(eq(auditLog.entityId, body.user.id));
    expect(JSON.stringify(audit)).not.toContain(body.credentials.password);
    // the SIP directory finds it
    const creds = await findSipCredentials(h.platform.ctx.db, body.credentials.username);
    expect(creds).toMatchObject({ userId: body.user.id, clientId: clientA, extension: '201', realm, ha1Md5: row!.ha1Md5 });
    expect(await findUserByExtension(h.platform.ctx.db, clientA, '201')).toMatchObject({ userId: body.user.id });
    expect(await findSipCredentials(h.platform.ctx.db, 'nobody.000000000000')).toBeNull();
  });

  it('resets credentials (§6.2): new password once, new hashes, old ones gone', async () => {
    const created = json<Created>(await createUser(clientA, '202'));
    const res = await call(h, 'POST', `/api/v1/clients/${clientA}/users/${created.user.id}/credentials/reset`, { cookie: adminA });
    expect(res.statusCode, res.body).toBe(200);
    const creds = json<Created['credentials']>(res);
    expect(creds.password).not.toBe(created.credentials.password);
    const dir = await findSipCredentials(h.platform.ctx.db, creds.username);
    expect(dir!.ha1Sha256).toBe(ha1('SHA-256', creds.username, creds.realm, creds.password));
    // a client user may not rotate
    const denied = await call(h, 'POST', `/api/v1/clients/${clientA}/users/${created.user.id}/credentials/reset`, { cookie: userA });
    expect(denied.statusCode).toBe(403);
  });

  it('extensions: digits 2–6, unique per client, reusable by another client', async () => {
    expect((await createUser(clientA, '1')).statusCode).toBe(400);
    expect((await createUser(clientA, '1234567')).statusCode).toBe(400);
    expect((await createUser(clientA, '30a')).statusCode).toBe(400);
    expect((await createUser(clientA, '301')).statusCode).toBe(201);
    const dup = await createUser(clientA, '301');
    expect(dup.statusCode).toBe(409);
    expect(json(dup)).toMatchObject({ code: 'EXTENSION_TAKEN' });
    expect((await createUser(clientB, '301')).statusCode).toBe(201);
  });

  it('bulk creation: count + firstExtension, all or nothing', async () => {
    const res = await call(h, 'POST', `/api/v1/clients/${clientB}/users/bulk`, { cookie: adminB, body: { count: 3, firstExtension: '401' } });
    expect(res.statusCode, res.body).toBe(201);
    const items = json<{ items: Created[] }>(res).items;
    expect(items.map((i) => i.user.extension)).toEqual(['401', '402', '403']);
    expect(new Set(items.map((i) => i.credentials.password)).size).toBe(3);
    const clash = await call(h, 'POST', `/api/v1/clients/${clientB}/users/bulk`, { cookie: adminB, body: { count: 3, firstExtension: '403' } });
    expect(clash.statusCode).toBe(409);
    const list = json<{ items: { extension: string }[] }>(await call(h, 'GET', `/api/v1/clients/${clientB}/users`, { cookie: adminB }));
    expect(list.items.map((u) => u.extension)).not.toContain('404');
  });

  it('§2.2 nothing before signature, §13.1 nothing after termination', async () => {
    const unsigned = await seedClient(h, 'Unsigned');
    contractStates.set(unsigned, 'draft');
    const res = await createUser(unsigned, '101');
    expect(res.statusCode).toBe(422);
    expect(json(res)).toMatchObject({ code: 'CONTRACT_NOT_SIGNED', clause: '2.2' });
    const gone = await seedClient(h, 'Gone');
    contractStates.set(gone, 'terminated');
    const res2 = await createUser(gone, '101');
    expect(res2.statusCode).toBe(422);
    expect(json(res2)).toMatchObject({ code: 'CLIENT_TERMINATED', clause: '13.1' });
  });

  it('renames a user and sets its site', async () => {
    const created = json<Created>(await createUser(clientA, '501'));
    const res = await call(h, 'PATCH', `/api/v1/clients/${clientA}/users/${created.user.id}`, {
      cookie: adminA,
      body: { displayName: 'Reception', site: 'Rue de la Loi 16, 1000 Bruxelles' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ displayName: 'Reception', site: 'Rue de la Loi 16, 1000 Bruxelles' });
  });

  describe('tenancy (test-unauthorized-user-access)', () => {
    it("a client admin cannot read or change another client's users: 404, recorded", async () => {
      const other = json<Created>(await createUser(clientB, '601'));
      const id = other.user.id;
      const attempts = [
        call(h, 'GET', `/api/v1/clients/${clientB}/users`, { cookie: adminA }),
        call(h, 'GET', `/api/v1/clients/${clientB}/users/${id}`, { cookie: adminA }),
        call(h, 'GET', `/api/v1/clients/${clientA}/users/${id}`, { cookie: adminA }),
        call(h, 'PATCH', `/api/v1/clients/${clientA}/users/${id}`, { cookie: adminA, body: { displayName: 'x' } }),
        call(h, 'DELETE', `/api/v1/clients/${clientA}/users/${id}`, { cookie: adminA }),
        call(h, 'POST', `/api/v1/clients/${clientA}/users/${id}/credentials/reset`, { cookie: adminA }),
        call(h, 'POST', `/api/v1/clients/${clientB}/users`, { cookie: adminA, body: { extension: '602' } }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.statusCode, res.body).toBe(404);
        expect(json(res)).toMatchObject({ code: 'NOT_FOUND' });
      }
      const denied = await h.platform.ctx.db.select().from(auditLog).where(and(eq(auditLog.action, 'access.denied'), eq(auditLog.entityId, id)));
      expect(denied.length).toBeGreaterThanOrEqual(4);
      expect(denied.every((d) => d.clientId === clientB)).toBe(true);
      // unchanged
      const still = await call(h, 'GET', `/api/v1/clients/${clientB}/users/${id}`, { cookie: adminB });
      expect(json(still)).toMatchObject({ displayName: null, deletedAt: null });
    });
  });

  it('DID target: a number with a user rings it, one without rings the main number', async () => {
    await call(h, 'POST', '/api/v1/numbers/import', { cookie: staff, body: { numbers: [{ number: '+3225550001', type: 'national' }, { number: '+3225550002', type: 'national' }] } });
    const u = json<Created>(await createUser(clientA, '701'));
    expect((await call(h, 'POST', `/api/v1/clients/${clientA}/numbers/assign`, { cookie: adminA, body: { number: '+3225550001', userId: u.user.id, main: true } })).statusCode).toBe(200);
    expect((await call(h, 'POST', `/api/v1/clients/${clientA}/numbers/assign`, { cookie: adminA, body: { number: '+3225550002' } })).statusCode).toBe(200);
    expect(await findDidTarget(h.platform.ctx.db, '+3225550001')).toEqual({ clientId: clientA, userId: u.user.id });
    expect(await findDidTarget(h.platform.ctx.db, '+3225550002')).toEqual({ clientId: clientA, userId: u.user.id });
    expect(await findDidTarget(h.platform.ctx.db, '+3225559999')).toBeNull();
  });

  describe('§8.5 quarterly floor on delete', () => {
    it('N0 = 10: one deletion allowed, the second refused, staff override with a recorded reason', async () => {
      const c = await seedClient(h, 'Floor');
      contractStates.set(c, 'active');
      const adminAccount = await seedAccount(h, 'client_admin', c);
      let admin = await loginAs(h, adminAccount);
      // 10 users before the quarter (clock 2027-03-01 → quarter starts 2027-04-01)
      const created = json<{ items: Created[] }>(
        await call(h, 'POST', `/api/v1/clients/${c}/users/bulk`, { cookie: staff, body: { count: 10, firstExtension: '100' } }),
      ).items;
      h.clock.set(new Date('2027-04-10T10:00:00+02:00'));
      ({ staff, support, admin } = await relogin(adminAccount));
      // 2 users added during the quarter can be removed again
      const added = json<{ items: Created[] }>(
        await call(h, 'POST', `/api/v1/clients/${c}/users/bulk`, { cookie: staff, body: { count: 2, firstExtension: '200' } }),
      ).items;
      for (const u of [...added, created[0]!]) {
        const del = await call(h, 'DELETE', `/api/v1/clients/${c}/users/${u.user.id}`, { cookie: admin });
        expect(del.statusCode, del.body).toBe(200);
      }
      // 9 left = floor 9: refused
      const refused = await call(h, 'DELETE', `/api/v1/clients/${c}/users/${created[1]!.user.id}`, { cookie: admin });
      expect(refused.statusCode).toBe(422);
      expect(json(refused)).toMatchObject({ code: 'USER_REDUCTION_LIMIT', clause: '8.5' });
      // a client admin cannot override
      const clientOverride = await call(h, 'DELETE', `/api/v1/clients/${c}/users/${created[1]!.user.id}?overrideReason=please`, { cookie: admin });
      expect(clientOverride.statusCode).toBe(403);
      // staff can, with a reason recorded
      const overridden = await call(h, 'DELETE', `/api/v1/clients/${c}/users/${created[1]!.user.id}?overrideReason=${encodeURIComponent('office closed')}`, {
        cookie: support,
      });
      expect(overridden.statusCode, overridden.body).toBe(200);
      const [entry] = await h.platform.ctx.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, created[1]!.user.id), eq(auditLog.action, 'user.delete')));
      expect(entry?.clause).toBe('8.5');
      expect(entry?.after).toMatchObject({ override: { reason: 'office closed' }, quarterFloor: 9 });
      // the SIP directory no longer knows the deleted user
      expect(await findSipCredentials(h.platform.ctx.db, created[1]!.credentials.username)).toBeNull();
      // the next quarter starts from the new count (8 → floor 8)
      h.clock.set(new Date('2027-07-01T00:00:00+02:00'));
      ({ admin } = await relogin(adminAccount));
      const next = await call(h, 'DELETE', `/api/v1/clients/${c}/users/${created[2]!.user.id}`, { cookie: admin });
      expect(next.statusCode).toBe(422);
    });
  });
});
