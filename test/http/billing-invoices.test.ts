/**
 * GET /clients/:clientId/invoices: a client's invoices and balance; tenancy
 * (test-unauthorized-invoice-access, §15.3): another client's admin gets 404.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedActivationInvoice, seedClient, startHarness, type Harness } from './harness.ts';

describeEachDb('billing invoices API', (kind) => {
  let h: Harness;
  let clientA: string;
  let clientB: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    clientA = await seedClient(h, 'A');
    clientB = await seedClient(h, 'B');
    await seedActivationInvoice(h, clientA);
  });
  afterAll(async () => {
    await h.close();
  });

  it('staff and the client admin see the invoice with its lines and the balance', async () => {
    const staff = await loginAs(h, await seedAccount(h, 'admin'));
    const adminA = await loginAs(h, await seedAccount(h, 'client_admin', clientA));
    for (const cookie of [staff, adminA]) {
      const res = await call(h, 'GET', `/api/v1/clients/${clientA}/invoices`, { cookie });
      expect(res.statusCode, res.body).toBe(200);
      const body = json<{ items: { number: string; totalInclVatCents: number; structuredReference: string; lines: unknown[] }[]; balanceCents: number }>(res);
      expect(body.items).toHaveLength(1);
      expect(body.items[0]).toMatchObject({ number: '2027-000001', totalInclVatCents: 5929, structuredReference: '+++202/7000/00122+++' });
      expect(body.items[0]!.lines).toHaveLength(1);
      expect(body.balanceCents).toBe(5929);
    }
  });

  it("another client's admin cannot read them: 404", async () => {
    const adminB = await loginAs(h, await seedAccount(h, 'client_admin', clientB));
    const res = await call(h, 'GET', `/api/v1/clients/${clientA}/invoices`, { cookie: adminB });
    expect(res.statusCode, res.body).toBe(404);
    const own = await call(h, 'GET', `/api/v1/clients/${clientB}/invoices`, { cookie: adminB });
    expect(json<{ items: unknown[]; balanceCents: number }>(own)).toEqual({ items: [], balanceCents: 0 });
  });
});
