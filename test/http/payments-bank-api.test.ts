/**
 * HTTP: bank statement upload (CODA text/plain, CAMT.053 application/xml), duplicate
 * import, malformed files as problem+json naming the position, the unallocated queue,
 * staff suspend/reactivate, guarantees, deposits, the client's account view (tenancy
 * refusal) and the staff ageing of receivables.
 */
import { readFileSync } from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditLog } from '../../src/modules/audit/schema.ts';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedActivationInvoice, seedClient, startHarness, type Harness } from './harness.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/bank/${name}`, import.meta.url), 'utf8');

describeEachDb('payments: bank statements, queue, suspension, views', (kind) => {
  let h: Harness;
  let a: string;
  let b: string;
  let c: string;
  let staff: string;
  let adminA: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    a = await seedClient(h, 'A');
    b = await seedClient(h, 'B');
    c = await seedClient(h, 'C');
    for (const id of [a, b, c]) await seedActivationInvoice(h, id); // 2027-000001…3, 59.29 € each, due 31 March
    h.clock.set(new Date('2027-05-20T12:00:00+02:00'));
    staff = await loginAs(h, await seedAccount(h, 'billing'));
    adminA = await loginAs(h, await seedAccount(h, 'client_admin', a));
  });
  afterAll(async () => {
    await h.close();
  });

  const upload = (body: string, type: string, cookie = staff, query = '') =>
    h.platform.http.inject({ method: 'POST', url: `/api/v1/bank-statements${query}`, headers: { cookie, 'content-type': type }, payload: body });

  it('imports a CODA statement (text/plain), then reports 0 new on the same file', async () => {
    const res = await upload(fixture('statement-valid.cod'), 'text/plain');
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ format: 'coda', entries: 6, new: 5, matched: 4, unallocated: 1, duplicates: 0, debits: 1 });
    const list = await call(h, 'GET', '/api/v1/bank-statements', { cookie: staff });
    const [st] = json<{ items: { id: string; statementId: string }[] }>(list).items;
    expect(st).toMatchObject({ statementId: 'coda:BE68539007547034:2027:001' });
    const one = await call(h, 'GET', `/api/v1/bank-statements/${st!.id}`, { cookie: staff });
    expect(json<{ items: { direction: string; matchedBy: string | null }[] }>(one).items.map((i) => i.matchedBy)).toEqual(['reference', 'invoice_number', 'reference', 'iban', 'unallocated', null]);
    expect((await call(h, 'GET', '/api/v1/bank-statements', { cookie: adminA })).statusCode).toBe(403);
    const again = await upload(fixture('statement-valid.cod'), 'text/plain');
    expect(again.statusCode, again.body).toBe(200);
    expect(json(again)).toMatchObject({ alreadyImported: true, new: 0, duplicates: 6 });
  });

  it('imports a CAMT.053 statement (application/xml)', async () => {
    const res = await upload(fixture('statement-valid.xml'), 'application/xml; charset=utf-8');
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ format: 'camt053', new: 5 });
  });

  it('refuses malformed files with problem+json naming the position, and bad requests naming the field', async () => {
    const bad = await upload(fixture('bad-trailer-count.cod'), 'text/plain');
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(json(bad)).toMatchObject({ code: 'BANK_FILE_INVALID', field: 'line 22, column 17', clause: null });
    const xml = await upload(fixture('missing-amount.xml'), 'application/xml');
    expect(json(xml)).toMatchObject({ status: 422, field: 'Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt' });
    const asCoda = await upload(fixture('statement-valid.xml'), 'text/plain', staff, '?format=coda');
    expect(json(asCoda)).toMatchObject({ status: 422, code: 'BANK_FILE_INVALID', field: 'line 1, column 39' }); // the XML declaration line is no 128-character record
    const fmt = await upload(fixture('statement-valid.cod'), 'text/plain', staff, '?format=mt940');
    expect(fmt.statusCode).toBe(400);
    expect(json(fmt)).toMatchObject({ code: 'VALIDATION_FAILED', field: 'querystring:/format' });
    const empty = await upload('   ', 'text/plain');
    expect(json(empty)).toMatchObject({ status: 400, code: 'BANK_FILE_MISSING', field: '/' });
    const client = await upload(fixture('statement-valid.cod'), 'text/plain', adminA);
    expect(client.statusCode).toBe(403);
  });

  it('lists the unallocated queue and allocates a payment (staff only)', async () => {
    const q = await call(h, 'GET', '/api/v1/payments/unallocated', { cookie: staff });
    const items = json<{ items: { id: string; amountCents: number }[] }>(q).items;
    expect(items.map((i) => i.amountCents)).toEqual([777, 777]);
    expect((await call(h, 'GET', '/api/v1/payments/unallocated', { cookie: adminA })).statusCode).toBe(403);
    const missing = await call(h, 'POST', `/api/v1/payments/${items[0]!.id}/allocate`, { cookie: staff, body: {} });
    expect(json(missing)).toMatchObject({ status: 400, field: '/clientId' });
    const res = await call(h, 'POST', `/api/v1/payments/${items[0]!.id}/allocate`, { cookie: staff, body: { clientId: b, note: 'identified by phone' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ clientId: b, matchedBy: 'staff' });
    const twice = await call(h, 'POST', `/api/v1/payments/${items[0]!.id}/allocate`, { cookie: staff, body: { clientId: b } });
    expect(json(twice)).toMatchObject({ status: 409, code: 'PAYMENT_ALREADY_ALLOCATED' });
  });

  it('staff suspend and reactivate with a reason; clients may not', async () => {
    const noReason = await call(h, 'POST', `/api/v1/clients/${c}/suspend`, { cookie: staff, body: { clause: '9.2' } });
    expect(json(noReason)).toMatchObject({ status: 400, field: '/reason' });
    const badClause = await call(h, 'POST', `/api/v1/clients/${c}/suspend`, { cookie: staff, body: { clause: '9.1a', reason: 'x' } });
    expect(json(badClause)).toMatchObject({ status: 400, field: '/clause' });
    const s = await call(h, 'POST', `/api/v1/clients/${c}/suspend`, { cookie: staff, body: { clause: '9.2', reason: 'toll fraud' } });
    expect(s.statusCode, s.body).toBe(200);
    expect(json(s)).toMatchObject({ serviceState: 'security_suspended', clause: '9.2', reason: 'toll fraud' });
    expect((await call(h, 'POST', `/api/v1/clients/${a}/suspend`, { cookie: adminA, body: { clause: '9.2', reason: 'x' } })).statusCode).toBe(403);
    const r = await call(h, 'POST', `/api/v1/clients/${c}/reactivate`, { cookie: staff, body: { reason: 'cleared' } });
    expect(json(r)).toMatchObject({ serviceState: 'active', clause: '9.2' });
    const audit = await h.platform.ctx.db.select().from(auditLog).where(and(eq(auditLog.clientId, c), eq(auditLog.action, 'client.suspend')));
    expect(audit.map((x) => [x.clause, x.actorKind])).toEqual([['9.2', 'staff']]);
  });

  it('registers a guarantee and a deposit; another client’s invoice is not found', async () => {
    const g = await call(h, 'POST', `/api/v1/clients/${c}/guarantees`, { cookie: staff, body: { invoiceNumber: '2027-000003', amount: 1000, reference: 'BG-42' } });
    expect(g.statusCode, g.body).toBe(201);
    expect(json(g)).toMatchObject({ invoiceNumber: '2027-000003', amountCents: 1000 });
    const other = await call(h, 'POST', `/api/v1/clients/${c}/guarantees`, { cookie: staff, body: { invoiceNumber: '2027-000001', amount: 1000 } });
    expect(other.statusCode).toBe(404);
    const id = json<{ id: string }>(g).id;
    const wrongClient = await call(h, 'POST', `/api/v1/clients/${b}/guarantees/${id}/release`, { cookie: staff, body: {} });
    expect(wrongClient.statusCode).toBe(404);
    const released = await call(h, 'POST', `/api/v1/clients/${c}/guarantees/${id}/release`, { cookie: staff, body: { reason: 'dispute settled' } });
    expect(released.statusCode, released.body).toBe(200);
    expect(json(released)).toMatchObject({ id, amountCents: 1000 });
    expect((await call(h, 'POST', `/api/v1/clients/${c}/guarantees/${id}/release`, { cookie: staff, body: {} })).statusCode).toBe(404);
    const dep = await call(h, 'POST', `/api/v1/clients/${c}/deposit`, { cookie: staff, body: { kind: 'received', amount: 5000 } });
    expect(json(dep)).toMatchObject({ receivedCents: 5000, heldCents: 5000 });
  });

  it('a client sees its own account, never another’s (404, audited)', async () => {
    const own = await call(h, 'GET', `/api/v1/clients/${a}/account`, { cookie: adminA });
    expect(own.statusCode, own.body).toBe(200);
    const view = json<{ balanceCents: number; creditCents: number; openInvoices: unknown[]; payments: { matchedBy: string }[] }>(own);
    // Two payments of 60.50 (CODA, CAMT) and 20.00 × 2 by IBAN on a 59.29 € invoice: 121 + 6050 + 4000 credit.
    expect(view).toMatchObject({ openInvoices: [], creditCents: 10171, balanceCents: -10171 });
    expect(view.payments.map((p) => p.matchedBy).sort()).toEqual(['iban', 'iban', 'reference', 'reference']);
    const foreign = await call(h, 'GET', `/api/v1/clients/${b}/account`, { cookie: adminA });
    expect(foreign.statusCode).toBe(404);
    const denied = await h.platform.ctx.db.select().from(auditLog).where(and(eq(auditLog.action, 'access.denied'), eq(auditLog.entityId, b)));
    expect(denied.length).toBeGreaterThan(0);
  });

  it('staff see the ageing of receivables; clients may not', async () => {
    const res = await call(h, 'GET', '/api/v1/receivables/ageing?asOf=2027-05-20', { cookie: staff });
    expect(res.statusCode, res.body).toBe(200);
    const ageing = json<{ totals: Record<string, number>; clients: { clientId: string; d31to60Cents: number; totalCents: number }[] }>(res);
    // Due 31 March → 50 days late on 20 May: B owes 5929 − 1234 × 2 − 777 = 2684; C 5929 − 500 × 2 = 4929.
    expect(ageing.clients.map((x) => [x.clientId, x.d31to60Cents, x.totalCents])).toEqual(
      expect.arrayContaining([
        [b, 2684, 2684],
        [c, 4929, 4929],
      ]),
    );
    expect(ageing.totals).toMatchObject({ d31to60Cents: 7613, totalCents: 7613, notDueCents: 0, d0to30Cents: 0 });
    expect((await call(h, 'GET', '/api/v1/receivables/ageing', { cookie: adminA })).statusCode).toBe(403);
  });

  it('the dunning policy: staff billing read it, only admin change it (audited), a bad value is a 400 naming the field', async () => {
    const admin = await loginAs(h, await seedAccount(h, 'admin'));
    expect(json(await call(h, 'GET', '/api/v1/payments/dunning-policy', { cookie: staff }))).toEqual({
      reminder1Day: 1,
      reminder2Day: 10,
      formalNoticeDay: 15,
      suspensionDay: 21,
      reminderFeeCents: 1500,
      terminationEligibleMonths: 1,
    });
    expect((await call(h, 'GET', '/api/v1/payments/dunning-policy', { cookie: adminA })).statusCode).toBe(403);
    expect((await call(h, 'PATCH', '/api/v1/payments/dunning-policy', { cookie: staff, body: { suspensionDay: 25 } })).statusCode).toBe(403);
    const bad = await call(h, 'PATCH', '/api/v1/payments/dunning-policy', { cookie: admin, body: { suspensionDay: 14 } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad)).toMatchObject({ field: '/suspensionDay' });
    const ok = await call(h, 'PATCH', '/api/v1/payments/dunning-policy', { cookie: admin, body: { suspensionDay: 25 } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(json(ok)).toMatchObject({ suspensionDay: 25, formalNoticeDay: 15 });
    const audit = json<{ items: { action: string; clause: string | null }[] }>(await call(h, 'GET', '/api/v1/audit?action=dunning_policy.update', { cookie: admin }));
    expect(audit.items.map((e) => [e.action, e.clause])).toContainEqual(['dunning_policy.update', '9.1a']);
    await call(h, 'PATCH', '/api/v1/payments/dunning-policy', { cookie: admin, body: { suspensionDay: 21 } });
  });
});
