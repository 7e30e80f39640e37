/** POST /api/v1/payments: staff record payments (matching, credit, idempotency); clients cannot. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedActivationInvoice, seedClient, startHarness, type Harness } from './harness.ts';

describeEachDb('payments API', (kind) => {
  let h: Harness;
  let clientA: string;
  let staff: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    clientA = await seedClient(h, 'A');
    await seedActivationInvoice(h, clientA);
    staff = await loginAs(h, await seedAccount(h, 'admin'));
  });
  afterAll(async () => {
    await h.close();
  });

  it('matches a structured communication, keeps the leftover as credit, and is idempotent by externalId', async () => {
    const body = { amount: 6000, reference: '+++202/7000/00122+++', externalId: 'tx-42', payerIban: 'BE68539007547034' };
    const res = await call(h, 'POST', '/api/v1/payments', { cookie: staff, body });
    expect(res.statusCode, res.body).toBe(201);
    const first = json<{ id: string; matchedBy: string; clientId: string; allocations: { invoiceNumber: string; amountCents: number }[]; creditCents: number }>(res);
    expect(first).toMatchObject({ matchedBy: 'reference', clientId: clientA, allocations: [{ invoiceNumber: '2027-000001', amountCents: 5929 }], creditCents: 71 });
    const again = await call(h, 'POST', '/api/v1/payments', { cookie: staff, body });
    expect(json<{ id: string }>(again).id).toBe(first.id);
    const invoices = await call(h, 'GET', `/api/v1/clients/${clientA}/invoices`, { cookie: staff });
    const list = json<{ items: { status: string }[]; balanceCents: number }>(invoices);
    expect(list.items[0]!.status).toBe('paid');
    expect(list.balanceCents).toBe(-71);
  });

  it('keeps a payment naming nobody as unallocated', async () => {
    const res = await call(h, 'POST', '/api/v1/payments', { cookie: staff, body: { amount: 100, invoiceNumber: '2027-999999', paidAt: '2027-03-01T10:00:00+01:00' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ clientId: null, matchedBy: 'unallocated', creditCents: 0 });
  });

  it('refuses a client admin (403) and a malformed body (400)', async () => {
    const adminA = await loginAs(h, await seedAccount(h, 'client_admin', clientA));
    const denied = await call(h, 'POST', '/api/v1/payments', { cookie: adminA, body: { amount: 100, clientId: clientA } });
    expect(denied.statusCode, denied.body).toBe(403);
    const bad = await call(h, 'POST', '/api/v1/payments', { cookie: staff, body: { amount: -5, clientId: clientA } });
    expect(bad.statusCode, bad.body).toBe(400);
  });
});
