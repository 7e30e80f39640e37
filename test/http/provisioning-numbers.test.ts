/**
 * Numbers (§3, §3.6, §8.6): inventory import (staff only), reservation and its 30-day
 * expiry, one client per number, release to a 90-day quarantine, the international
 * 12-month commitment, caller-ID helpers, billing quantities and the termination hook;
 * tenancy of all of it. The contract state is stubbed per client.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contractStates } from '../support/contract-state-stub.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import {
  assignNumber,
  billingQuantities,
  createUsers,
  mainNumber,
  numbersOfClient,
  releaseAllNumbers,
  releaseNumber,
  reserveNumber,
  userNumber,
} from '../../src/modules/provisioning/index.ts';
import { phoneNumbers } from '../../src/modules/provisioning/schema.ts';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedClient, startHarness, type Harness } from './harness.ts';

vi.mock('../../src/modules/customers/contract-status.ts', async (importOriginal) =>
  (await import('../support/contract-state-stub.ts')).stubContractStatus(importOriginal),
);

describeEachDb('provisioning numbers', (kind) => {
  let h: Harness;
  let staff: string;
  let clientA: string;
  let clientB: string;
  let adminA: string;
  let adminB: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    staff = await loginAs(h, await seedAccount(h, 'admin'));
    clientA = await seedClient(h, 'A');
    clientB = await seedClient(h, 'B');
    contractStates.set(clientA, 'active');
    contractStates.set(clientB, 'active');
    adminA = await loginAs(h, await seedAccount(h, 'client_admin', clientA));
    adminB = await loginAs(h, await seedAccount(h, 'client_admin', clientB));
    const res = await call(h, 'POST', '/api/v1/numbers/import', {
      cookie: staff,
      body: { ranges: [{ from: '+3243210000', to: '+3243210099', type: 'national' }], numbers: [{ number: '+33187650000', type: 'international' }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toEqual({ imported: 101, skipped: 0 });
  });
  afterAll(async () => h.close());

  const ctx = () => h.platform.ctx;
  const row = async (n: string) => (await ctx().db.select().from(phoneNumbers).where(eq(phoneNumbers.number, n)))[0]!;
  const events = async (type: string, number: string) =>
    (await listEvents(ctx().db, { type })).filter((e) => e.details.number === number);

  it('inventory import is staff-only (403 for client roles), validated, idempotent', async () => {
    const body = { numbers: [{ number: '+3243219999', type: 'national' }] };
    const denied = await call(h, 'POST', '/api/v1/numbers/import', { cookie: adminA, body });
    expect(denied.statusCode).toBe(403);
    expect((await call(h, 'GET', '/api/v1/numbers', { cookie: adminA })).statusCode).toBe(403);
    const bad = await call(h, 'POST', '/api/v1/numbers/import', { cookie: staff, body: { numbers: [{ number: '+33187650001', type: 'national' }] } });
    expect(bad.statusCode).toBe(400);
    const again = await call(h, 'POST', '/api/v1/numbers/import', { cookie: staff, body: { ranges: [{ from: '+3243210098', to: '+3243210099', type: 'national' }] } });
    expect(json(again)).toEqual({ imported: 0, skipped: 2 });
  });

  it('a number belongs to one client at a time (NUMBER_NOT_AVAILABLE, clause null)', async () => {
    const r = await call(h, 'POST', `/api/v1/clients/${clientA}/numbers/reserve`, { cookie: adminA, body: { number: '+3243210010' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(json(r)).toMatchObject({ state: 'reserved', clientId: clientA, reservationExpiresOn: '2027-03-31' });
    for (const path of ['reserve', 'assign']) {
      const res = await call(h, 'POST', `/api/v1/clients/${clientB}/numbers/${path}`, { cookie: adminB, body: { number: '+3243210010' } });
      expect(res.statusCode).toBe(422);
      expect(json(res)).toMatchObject({ code: 'NUMBER_NOT_AVAILABLE', clause: null });
    }
    const a = await call(h, 'POST', `/api/v1/clients/${clientA}/numbers/assign`, { cookie: adminA, body: { number: '+3243210010' } });
    expect(json(a)).toMatchObject({ state: 'assigned', clientId: clientA });
    const b = await call(h, 'POST', `/api/v1/clients/${clientB}/numbers/assign`, { cookie: adminB, body: { number: '+3243210010' } });
    expect(json(b)).toMatchObject({ code: 'NUMBER_NOT_AVAILABLE' });
  });

  it("tenancy: a client admin cannot read or release another client's numbers (404)", async () => {
    await call(h, 'POST', `/api/v1/clients/${clientB}/numbers/assign`, { cookie: adminB, body: { number: '+3243210020' } });
    for (const res of [
      await call(h, 'GET', `/api/v1/clients/${clientB}/numbers`, { cookie: adminA }),
      await call(h, 'POST', `/api/v1/clients/${clientB}/numbers/release`, { cookie: adminA, body: { number: '+3243210020' } }),
      await call(h, 'POST', `/api/v1/clients/${clientA}/numbers/release`, { cookie: adminA, body: { number: '+3243210020' } }),
    ]) {
      expect(res.statusCode, res.body).toBe(404);
    }
    expect((await row('+3243210020')).state).toBe('assigned');
    const mine = json<{ items: { number: string }[] }>(await call(h, 'GET', `/api/v1/clients/${clientA}/numbers`, { cookie: adminA }));
    expect(mine.items.map((n) => n.number)).not.toContain('+3243210020');
    // a user of another client cannot be the target of an assignment
    const [u] = await createUsers(ctx(), { actor: 'system', clientId: clientB, users: [{ extension: '900' }] });
    const res = await call(h, 'POST', `/api/v1/clients/${clientA}/numbers/assign`, { cookie: adminA, body: { number: '+3243210021', userId: u!.user.id } });
    expect(res.statusCode).toBe(404);
  });

  it('cancel a reservation: staff only', async () => {
    await call(h, 'POST', `/api/v1/clients/${clientA}/numbers/reserve`, { cookie: adminA, body: { number: '+3243210030' } });
    expect((await call(h, 'POST', '/api/v1/numbers/cancel-reservation', { cookie: adminA, body: { number: '+3243210030' } })).statusCode).toBe(403);
    const res = await call(h, 'POST', '/api/v1/numbers/cancel-reservation', { cookie: staff, body: { number: '+3243210030' } });
    expect(json(res)).toMatchObject({ state: 'available', clientId: null });
  });

  it('caller-ID helpers: user number = earliest assigned (ties lowest), main = designated else earliest', async () => {
    const c = await seedClient(h, 'CLID');
    contractStates.set(c, 'active');
    const [u1, u2] = await createUsers(ctx(), { actor: 'system', clientId: c, users: [{ extension: '10' }, { extension: '11' }] });
    expect(await mainNumber(ctx().db, c)).toBeNull();
    expect(await userNumber(ctx().db, u1!.user.id)).toBeNull();
    await assignNumber(ctx(), { actor: 'system', clientId: c, number: '+3243210042', userId: u1!.user.id });
    await assignNumber(ctx(), { actor: 'system', clientId: c, number: '+3243210041', userId: u1!.user.id }); // same instant: lowest wins
    expect(await userNumber(ctx().db, u1!.user.id)).toBe('+3243210041');
    expect(await mainNumber(ctx().db, c)).toBe('+3243210041');
    await assignNumber(ctx(), { actor: 'system', clientId: c, number: '+3243210043', userId: u2!.user.id, main: true });
    expect(await mainNumber(ctx().db, c)).toBe('+3243210043');
    expect((await numbersOfClient(ctx().db, c)).map((n) => n.number)).toEqual(['+3243210041', '+3243210042', '+3243210043']);
    expect(await billingQuantities(ctx().db, c, ctx().clock.now())).toMatchObject({ users: 2, nationalNumbers: 3, internationalNumbers: 0 });
  });

  describe('over time (daily job at 00:00 Brussels)', () => {
    it('§3.6 reservation expires at the job 30 days after the reservation day; quarantine lasts 90 days; termination releases everything', async () => {
      // clock: 2027-03-01 10:00 Brussels
      const c = await seedClient(h, 'Time');
      contractStates.set(c, 'active');
      await reserveNumber(ctx(), { actor: 'system', clientId: c, number: '+3243210050' });
      await assignNumber(ctx(), { actor: 'system', clientId: c, number: '+3243210051' });
      await assignNumber(ctx(), { actor: 'system', clientId: c, number: '+3243210052' });
      await h.platform.runJobsUntil(new Date('2027-03-30T23:59:59+02:00'));
      expect((await row('+3243210050')).state).toBe('reserved');
      await h.platform.runJobsUntil(new Date('2027-03-31T00:00:00+02:00'));
      expect((await row('+3243210050')).state).toBe('available');
      const expired = await events('reservation_expired', '+3243210050');
      expect(expired).toHaveLength(1);
      expect(expired[0]).toMatchObject({ clientId: c, clause: '3.6', at: new Date('2027-03-31T00:00:00+02:00') });

      // release on 2027-04-02 → quarantine until the job of 2027-07-01
      h.clock.set(new Date('2027-04-02T15:00:00+02:00'));
      const released = await releaseNumber(ctx(), { actor: 'system', clientId: c, number: '+3243210051' });
      expect(released).toMatchObject({ state: 'quarantine', quarantineEndsOn: '2027-07-01', releasePending: false });
      expect(await events('number_released', '+3243210051')).toHaveLength(1);
      // nobody can take it during the quarantine
      await expect(assignNumber(ctx(), { actor: 'system', clientId: clientB, number: '+3243210051' })).rejects.toMatchObject({ code: 'NUMBER_NOT_AVAILABLE' });
      await h.platform.runJobsUntil(new Date('2027-06-30T23:00:00+02:00'));
      expect((await row('+3243210051')).state).toBe('quarantine');
      await h.platform.runJobsUntil(new Date('2027-07-01T00:00:00+02:00'));
      expect(await row('+3243210051')).toMatchObject({ state: 'available', clientId: null });

      // termination hook: every assigned number → quarantine, number_released 13.1
      await ctx().db.transaction(async (tx) => {
        expect(await releaseAllNumbers(tx, c, ctx().clock.now())).toEqual(['+3243210052']);
      });
      expect(await events('number_released', '+3243210052')).toMatchObject([{ clause: '13.1', clientId: c }]);
      expect(await numbersOfClient(ctx().db, c)).toEqual([]);
    }, 180_000);

    it('§8.6 international: assigned 2027-07-15 → last day 2028-07-14; early release pending until the job of 2028-07-15', async () => {
      h.clock.set(new Date('2027-07-15T11:00:00+02:00'));
      const c = await seedClient(h, 'Intl');
      contractStates.set(c, 'active');
      const assigned = await assignNumber(ctx(), { actor: 'system', clientId: c, number: '+33187650000' });
      expect(assigned.commitmentEnd).toBe('2028-07-14');
      h.clock.set(new Date('2027-09-01T10:00:00+02:00'));
      const pending = await releaseNumber(ctx(), { actor: 'system', clientId: c, number: '+33187650000' });
      expect(pending).toMatchObject({ state: 'assigned', releasePending: true, releaseEffectiveOn: '2028-07-15' });
      await expect(releaseNumber(ctx(), { actor: 'system', clientId: c, number: '+33187650000' })).rejects.toMatchObject({ code: 'RELEASE_PENDING' });
      const q = await billingQuantities(ctx().db, c, ctx().clock.now());
      expect(q).toMatchObject({ internationalNumbers: 1, international: [{ number: '+33187650000', commitmentEnd: '2028-07-14', releasePending: true }] });
      await h.platform.runJobsUntil(new Date('2028-07-14T23:59:00+02:00'));
      expect((await row('+33187650000')).state).toBe('assigned');
      expect(await numbersOfClient(ctx().db, c)).toHaveLength(1);
      await h.platform.runJobsUntil(new Date('2028-07-15T00:00:00+02:00'));
      expect(await row('+33187650000')).toMatchObject({ state: 'quarantine', quarantineEndsOn: '2028-10-13' });
      const ev = await events('number_released', '+33187650000');
      expect(ev).toMatchObject([{ clause: '8.6', clientId: c, at: new Date('2028-07-15T00:00:00+02:00') }]);
    }, 180_000);
  });
});
