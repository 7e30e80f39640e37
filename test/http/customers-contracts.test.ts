/**
 * Clients, sites, contracts over HTTP: staff-only mutations (403 for client roles),
 * test-unauthorized-contract-access / -sites-access (404 for another tenant), enterprise
 * number validation, search, and the contract life cycle with its clauses.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedClient, startHarness, type Harness } from './harness.ts';

const address = { street: 'Rue de la Loi 16', postalCode: '1000', city: 'Bruxelles' };

describeEachDb('customers http', (kind) => {
  let h: Harness;
  let staff: string;
  let billing: string;
  let adminA: string;
  let userA: string;
  let clientA: string;
  let clientB: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    staff = await loginAs(h, await seedAccount(h, 'admin'));
    billing = await loginAs(h, await seedAccount(h, 'billing'));
    clientA = await seedClient(h, 'A');
    clientB = await seedClient(h, 'B');
    adminA = await loginAs(h, await seedAccount(h, 'client_admin', clientA, 'A-admin'));
    userA = await loginAs(h, await seedAccount(h, 'client_user', clientA, 'A-user'));
    const p = await call(h, 'POST', '/api/v1/catalog/products', { cookie: staff, body: { code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 } });
    expect(p.statusCode, p.body).toBe(201);
  });
  afterAll(async () => h.close());

  it('creates a client with its details; a bad enterprise number is a 400 naming the field', async () => {
    const res = await call(h, 'POST', '/api/v1/clients', {
      cookie: staff,
      body: {
        name: 'Zeta SRL',
        legalName: 'Zeta Télécom SRL',
        enterpriseNumber: 'BE0455.218.921',
        language: 'nl',
        billingEmail: 'facturen@zeta.test',
        address,
        depositCents: 25000,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({
      enterpriseNumber: '0455218921',
      legalName: 'Zeta Télécom SRL',
      language: 'nl',
      address: { ...address, country: 'BE' },
      depositCents: 25000,
      serviceState: 'active',
    });
    const bad = await call(h, 'POST', '/api/v1/clients', { cookie: staff, body: { name: 'Bad', enterpriseNumber: 'BE0455218922' } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad)).toMatchObject({ code: 'INVALID_ENTERPRISE_NUMBER' });
    expect(bad.body).toContain('enterpriseNumber');

    for (const q of ['zeta', '455.218', 'BE0455218921']) {
      const found = json<{ items: { name: string }[] }>(await call(h, 'GET', `/api/v1/clients?q=${encodeURIComponent(q)}`, { cookie: staff }));
      expect(found.items.map((c) => c.name), q).toEqual(['Zeta SRL']);
    }
    // A client principal searching sees only its own organisation.
    expect(json<{ items: unknown[] }>(await call(h, 'GET', '/api/v1/clients?q=zeta', { cookie: adminA })).items).toEqual([]);
  });

  it('sites: the client admin manages its own; another tenant gets 404; a client user gets 403', async () => {
    const res = await call(h, 'POST', `/api/v1/clients/${clientA}/sites`, { cookie: adminA, body: { name: 'HQ', address } });
    expect(res.statusCode, res.body).toBe(201);
    const list = await call(h, 'GET', `/api/v1/clients/${clientA}/sites`, { cookie: userA });
    expect(json<{ items: { name: string }[] }>(list).items.map((s) => s.name)).toEqual(['HQ']);
    expect((await call(h, 'GET', `/api/v1/clients/${clientB}/sites`, { cookie: adminA })).statusCode).toBe(404);
    expect((await call(h, 'POST', `/api/v1/clients/${clientB}/sites`, { cookie: adminA, body: { name: 'X', address } })).statusCode).toBe(404);
    expect((await call(h, 'POST', `/api/v1/clients/${clientA}/sites`, { cookie: userA, body: { name: 'X', address } })).statusCode).toBe(403);
  });

  it('contract mutations are staff-only (403) and another tenant’s contract is 404', async () => {
    const body = { lines: [{ product: 'USER', quantity: 2 }] };
    expect((await call(h, 'POST', `/api/v1/clients/${clientA}/contracts`, { cookie: adminA, body })).statusCode).toBe(403);
    expect((await call(h, 'POST', `/api/v1/clients/${clientA}/contract/installation`, { cookie: adminA })).statusCode).toBe(403);
    expect((await call(h, 'POST', `/api/v1/clients/${clientA}/contract/termination`, { cookie: adminA, body: { by: 'client', ground: 'early' } })).statusCode).toBe(403);
    // A staff-only route answers 403 to a client role whatever the tenant (the role check comes first, nothing leaks).
    expect((await call(h, 'POST', `/api/v1/clients/${clientB}/contracts`, { cookie: adminA, body })).statusCode).toBe(403);
    expect((await call(h, 'GET', `/api/v1/clients/${clientB}/contract`, { cookie: adminA })).statusCode).toBe(404);
    // Staff see it is absent; a non-renewal without a body is accepted as a request and refused by the rule.
    expect((await call(h, 'GET', `/api/v1/clients/${clientB}/contract`, { cookie: staff })).statusCode).toBe(404);
    const noBody = await call(h, 'POST', `/api/v1/clients/${clientB}/contract/non-renewal`, { cookie: staff });
    expect(noBody.statusCode, noBody.body).toBe(422);
    expect(json(noBody)).toMatchObject({ code: 'CONTRACT_NOT_SIGNED', clause: '2.2' });
  });

  it('life cycle: unsigned installation refused (2.2), sign, install, immediate termination', async () => {
    const unsigned = await call(h, 'POST', `/api/v1/clients/${clientA}/contract/installation`, { cookie: staff });
    expect(unsigned.statusCode).toBe(422);
    expect(json(unsigned)).toMatchObject({ code: 'CONTRACT_NOT_SIGNED', clause: '2.2' });

    const draft = await call(h, 'POST', `/api/v1/clients/${clientA}/contracts`, {
      cookie: billing,
      body: { lines: [{ product: 'USER', quantity: 2, priceCents: 1000 }], enable: ['premium'] },
    });
    expect(draft.statusCode, draft.body).toBe(201);
    const id = json<{ id: string }>(draft).id;
    expect(json(draft)).toMatchObject({ state: 'draft', minimumMonths: 60, lines: [{ product: 'USER', quantity: 2, priceCents: 1000 }] });
    const signed = await call(h, 'POST', `/api/v1/clients/${clientA}/contracts/${id}/sign`, { cookie: billing });
    expect(json(signed)).toMatchObject({ state: 'signed', signedAt: '2027-03-01T09:00:00.000Z' });
    const installed = await call(h, 'POST', `/api/v1/clients/${clientA}/contract/installation`, { cookie: staff });
    expect(json(installed)).toMatchObject({ state: 'active', serviceStartDate: '2027-03-01', minimumTermEnd: '2032-02-29' });

    // The client reads its own contract.
    expect(json(await call(h, 'GET', `/api/v1/clients/${clientA}/contract`, { cookie: userA }))).toMatchObject({ id, state: 'active' });

    const tooEarly = await call(h, 'POST', `/api/v1/clients/${clientA}/contract/termination`, { cookie: staff, body: { by: 'client', ground: 'notice' } });
    expect(json(tooEarly)).toMatchObject({ clause: '11.4' });
    const ended = await call(h, 'POST', `/api/v1/clients/${clientA}/contract/termination`, { cookie: staff, body: { by: 'client', ground: 'early' } });
    expect(json(ended)).toMatchObject({ state: 'terminated', endDate: '2027-03-01', terminationClause: '11.2' });
    const again = await call(h, 'POST', `/api/v1/clients/${clientA}/contract/non-renewal`, { cookie: staff, body: {} });
    expect(json(again)).toMatchObject({ code: 'CLIENT_TERMINATED', clause: '13.1' });
    expect(json(await call(h, 'GET', `/api/v1/clients/${clientA}`, { cookie: adminA }))).toMatchObject({ serviceState: 'terminated' });
  });
});
