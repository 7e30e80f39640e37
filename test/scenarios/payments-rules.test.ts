/**
 * Payments rules over a real database: §9.3 guarantee covering part of the debt, §9.1b
 * deposit boundary, §5.3 deposit received and offset, staff suspension and reactivation
 * (§9.1c, §9.2) — automatic reactivation never lifts a security suspension —, §12.2a
 * eligibility after exactly one month, reminders before the suspension when the job
 * catches up, and §5.2 interest over a DST change and a leap day.
 */
import { and, eq } from 'drizzle-orm';
import { auditLog } from '../../src/modules/audit/schema.ts';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { addDays, startOfLocalDay } from '../../src/kernel/time.ts';
import { issueCreditNote, issueInvoice, listInvoices } from '../../src/modules/billing/index.ts';
import { createProduct } from '../../src/modules/catalog/create-product.ts';
import { completeInstallation, createContract, signContract, terminateContract } from '../../src/modules/customers/index.ts';
import { invoiceLines, invoices } from '../../src/modules/billing/schema.ts';
import { pendingItems } from '../../src/modules/payments/schema.ts';
import { createClient } from '../../src/modules/customers/create-client.ts';
import { serviceStateOf, setServiceState } from '../../src/modules/customers/service-state.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import {
  clientAccount,
  depositOf,
  lateInterest,
  offsetDeposit,
  reactivateClient,
  recordDepositMovement,
  recordPayment,
  registerGuarantee,
  runDunning,
  setDunningPolicy,
  suspendClient,
} from '../../src/modules/payments/index.ts';
import { testContext } from '../support/context.ts';
import { describeEachDb, migratedTestDatabase } from '../support/db.ts';

const line = (amountCents: number) => ({ type: 'one_off' as const, productCode: 'X', zone: null, quantity: 1, periodStart: null, periodEnd: null, amountCents, vatRate: 21, clause: '8.1' });
const DUE = '2027-05-01';

describeEachDb('payments rules', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let ctx: ReturnType<typeof testContext>;
  let n = 0;

  async function clientWithInvoice(depositCents = 0): Promise<{ clientId: string; number: string; reference: string }> {
    n += 1;
    const c = await createClient(ctx, { principal: 'system', name: `Rules ${n}`, depositCents });
    const id = (await ctx.db.transaction((tx) => issueInvoice(tx, { clientId: c.id, runKey: `test:${n}`, at: ctx.clock.now(), clause: '8.1', lines: [line(5000)] })))!;
    const [inv] = await ctx.db.select().from(invoices).where(eq(invoices.id, id));
    return { clientId: c.id, number: inv!.number, reference: inv!.structuredReference }; // 60.50 €, due 1 May
  }
  const dunTo = async (day: number, from = 1): Promise<void> => {
    for (let d = from; d <= day; d++) {
      const at = startOfLocalDay(addDays(DUE, d));
      ctx.clock.set(at);
      await runDunning(ctx.db, at);
    }
  };
  const invoiceLineIds = async (invoiceId: string): Promise<string[]> =>
    (await ctx.db.select({ id: invoiceLines.id }).from(invoiceLines).where(eq(invoiceLines.invoiceId, invoiceId)).orderBy(invoiceLines.position)).map((l) => l.id);
  const types = async (clientId: string) => (await listEvents(ctx.db, { clientId })).map((e) => `${e.type}:${e.clause ?? ''}`);

  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  beforeEach(() => {
    ctx = testContext(database, '2027-04-01T10:00:00+02:00');
  });
  afterAll(async () => {
    await drop();
  });

  it('§9.3: a guarantee covering part of the debt — the uncovered part is dunned and suspends; paying it reactivates', async () => {
    const a = await clientWithInvoice();
    ctx.clock.set(new Date('2027-04-20T10:00:00+02:00'));
    await registerGuarantee(ctx, { actor: 'system', invoiceNumber: a.number, amountCents: 4000, reference: 'BG-1' });
    await dunTo(20);
    expect(await types(a.clientId)).toEqual(['guarantee:9.3', 'reminder:5.2', 'reminder:8.8', 'formal_notice:9.1a']);
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('active');
    await dunTo(21, 21);
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('minimum_service');
    const [susp] = await listEvents(ctx.db, { clientId: a.clientId, type: 'suspension' });
    expect(susp).toMatchObject({ clause: '9.1a', details: { overdueCents: 2050 } });
    // 20.49 € leaves 1 cent uncovered: still suspended; the last cent reactivates at its instant.
    ctx.clock.set(new Date('2027-05-24T09:00:00+02:00'));
    await recordPayment(ctx, { actor: 'system', amountCents: 2049, reference: a.reference });
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('minimum_service');
    const payAt = new Date('2027-05-24T09:00:40+02:00');
    ctx.clock.set(payAt);
    await recordPayment(ctx, { actor: 'system', amountCents: 1, invoiceNumber: a.number });
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('active');
    expect((await listEvents(ctx.db, { clientId: a.clientId, type: 'reactivation' })).map((e) => e.at.getTime())).toEqual([payAt.getTime()]);
    // The covered 40.00 € stays open and is never dunned again.
    await dunTo(40, 24);
    expect((await types(a.clientId)).filter((t) => t.startsWith('suspension'))).toHaveLength(1);
    const account = await clientAccount(ctx.db, { actor: 'system', clientId: a.clientId, today: '2027-06-10' });
    expect(account.openInvoices).toEqual([expect.objectContaining({ number: a.number, openCents: 4000, guaranteedCents: 4000, daysLate: 40 })]);
    expect(account.dunning.map((e) => e.type)).toEqual(['guarantee', 'reminder', 'reminder', 'formal_notice', 'suspension', 'reactivation']);
  });

  it('§8 a credit note settles what it credits: the suspension ends, the credited part accrues no interest, the excess is client credit', async () => {
    const a = await clientWithInvoice();
    const [inv] = await ctx.db.select().from(invoices).where(eq(invoices.number, a.number));
    await dunTo(21);
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('minimum_service');
    // 30.25 € paid 30 days late, then the rest (30.25 €) credited: interest only on what was paid late.
    ctx.clock.set(new Date('2027-05-31T10:00:00+02:00'));
    await recordPayment(ctx, { actor: 'system', amountCents: 3025, reference: a.reference });
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('minimum_service');
    const creditAt = new Date('2027-06-01T10:00:00+02:00');
    ctx.clock.set(creditAt);
    const note = await issueCreditNote(ctx, { actor: 'system', invoiceId: inv!.id, reason: 'Erreur de tarif', lines: [{ lineId: (await invoiceLineIds(inv!.id))[0]!, amountCents: 2500 }] });
    expect(note.totalInclVatCents).toBe(3025);
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('active');
    expect((await listEvents(ctx.db, { clientId: a.clientId, type: 'reactivation' })).map((e) => e.details)).toEqual([expect.objectContaining({ creditNote: note.number })]);
    const account = await clientAccount(ctx.db, { actor: 'system', clientId: a.clientId, today: '2027-06-01' });
    expect(account).toMatchObject({ openInvoices: [], creditCents: 0 });
    const [paid] = await ctx.db.select().from(invoices).where(eq(invoices.id, inv!.id));
    expect(paid!.status).toBe('paid');
    const interest = (await ctx.db.select().from(pendingItems).where(eq(pendingItems.sourceInvoiceId, inv!.id))).filter((i) => i.type === 'interest');
    expect(interest.map((i) => i.amountCents)).toEqual([lateInterest(DUE, [{ amountCents: 3025, at: new Date('2027-05-31T10:00:00+02:00') }]).cents]);
    expect(interest[0]!.amountCents).toBe(30); // 30.25 € × 12 % × 30/365 = 0.298 → 0.30 €

    // A second invoice credited in full while 10.00 € had been overpaid on it: the excess stays client credit.
    const b = await clientWithInvoice();
    const [invB] = await ctx.db.select().from(invoices).where(eq(invoices.number, b.number));
    await recordPayment(ctx, { actor: 'system', amountCents: 1000, reference: b.reference });
    await issueCreditNote(ctx, { actor: 'system', invoiceId: invB!.id, reason: 'Annulation' });
    expect(await clientAccount(ctx.db, { actor: 'system', clientId: b.clientId, today: '2027-06-01' })).toMatchObject({ openInvoices: [], creditCents: 1000 });
  });

  it('the daily evaluation follows the dunning policy in force (setting): suspension on D+25 instead of D+21', async () => {
    await setDunningPolicy(ctx, { actor: 'system', changes: { suspensionDay: 25 } });
    try {
      const a = await clientWithInvoice();
      await dunTo(24);
      expect(await serviceStateOf(ctx.db, a.clientId)).toBe('active');
      expect((await listEvents(ctx.db, { clientId: a.clientId, type: 'formal_notice' }))[0]!.details).toMatchObject({ suspensionOn: '2027-05-26' });
      await dunTo(25, 25);
      expect(await serviceStateOf(ctx.db, a.clientId)).toBe('minimum_service');
    } finally {
      await setDunningPolicy(ctx, { actor: 'system', changes: { suspensionDay: 21 } });
    }
  });

  it('§9.3: a guarantee covering the whole amount: no reminder, fee, notice or suspension', async () => {
    const b = await clientWithInvoice();
    await registerGuarantee(ctx, { actor: 'system', invoiceNumber: b.number, amountCents: 6050 });
    await dunTo(25);
    expect(await types(b.clientId)).toEqual(['guarantee:9.3']);
    expect(await serviceStateOf(ctx.db, b.clientId)).toBe('active');
  });

  it('§9.1b deposit rule: a deposit equal to the overdue debt prevents suspension, one cent less does not', async () => {
    const equal = await clientWithInvoice(6050);
    const less = await clientWithInvoice(6049);
    await dunTo(21);
    expect(await serviceStateOf(ctx.db, equal.clientId)).toBe('active');
    expect(await serviceStateOf(ctx.db, less.clientId)).toBe('minimum_service');
    expect(await types(less.clientId)).toContain('suspension:9.1b');
  });

  it('§5.3 deposit received, offset against open invoices (as a payment), the rest held', async () => {
    const c = await clientWithInvoice(10_000);
    expect(await depositOf(ctx.db, c.clientId)).toMatchObject({ requiredCents: 10_000, heldCents: 0 });
    await recordDepositMovement(ctx, { actor: 'system', clientId: c.clientId, kind: 'received', amountCents: 10_000 });
    await expect(recordDepositMovement(ctx, { actor: 'system', clientId: c.clientId, kind: 'refunded', amountCents: 10_001 })).rejects.toMatchObject({ field: '/amount' });
    const at = new Date('2027-04-15T12:00:00+02:00');
    ctx.clock.set(at);
    expect(await ctx.db.transaction((tx) => offsetDeposit(tx, c.clientId, at))).toBe(6050);
    expect(await depositOf(ctx.db, c.clientId)).toMatchObject({ receivedCents: 10_000, offsetCents: 6050, heldCents: 3950 });
    const account = await clientAccount(ctx.db, { actor: 'system', clientId: c.clientId, today: '2027-04-15' });
    expect(account.openInvoices).toEqual([]);
    expect(account.payments[0]).toMatchObject({ matchedBy: 'deposit', amountCents: 6050, creditCents: 0 });
  });

  it('§5.3 at termination the deposit held pays the open invoices and the final one (interest through the termination day)', async () => {
    await createProduct(ctx, { actor: 'system', code: 'SETUP', kind: 'one_off', priceCents: 10_000 });
    const client = await createClient(ctx, { principal: 'system', name: 'Deposit at termination', depositCents: 20_000 });
    const draft = await createContract(ctx, { actor: 'system', clientId: client.id, minimumMonths: 12, lines: [{ product: 'SETUP', quantity: 1 }] });
    await signContract(ctx, { actor: 'system', clientId: client.id, contractId: draft.id });
    await completeInstallation(ctx, { actor: 'system', clientId: client.id }); // one-off invoice 121.00 €, due 1 May
    await recordDepositMovement(ctx, { actor: 'system', clientId: client.id, kind: 'received', amountCents: 20_000 });
    // Terminated (§12.3a, no fee) on 11 May: 10 days late → interest 12100 × 12 % × 10 / 365 = 39.78 → 40 on the final invoice.
    ctx.clock.set(new Date('2027-05-11T10:00:00+02:00'));
    await terminateContract(ctx, { actor: 'system', clientId: client.id, by: 'client', ground: '12.3a' });
    const invs = await listInvoices(ctx.db, client.id);
    expect(invs.map((i) => [i.totalInclVatCents, i.status, i.lines.map((l) => `${l.type}:${l.amountCents}`).join(',')])).toEqual([
      [12_100, 'paid', 'one_off:10000'],
      [40, 'paid', 'interest:40'],
    ]);
    expect(await depositOf(ctx.db, client.id)).toMatchObject({ receivedCents: 20_000, offsetCents: 12_140, heldCents: 7860 });
  });

  it('staff §9.2 suspension is never lifted by a payment; staff reactivate with a reason', async () => {
    const d = await clientWithInvoice();
    await dunTo(21);
    expect(await serviceStateOf(ctx.db, d.clientId)).toBe('minimum_service');
    ctx.clock.set(new Date('2027-05-23T11:00:00+02:00'));
    await expect(suspendClient(ctx, { actor: 'system', clientId: d.clientId, clause: '9.2', reason: ' ' })).rejects.toMatchObject({ field: '/reason' });
    await expect(suspendClient(ctx, { actor: 'system', clientId: d.clientId, clause: '9.1a', reason: 'x' })).rejects.toMatchObject({ field: '/clause' });
    const s = await suspendClient(ctx, { actor: 'system', clientId: d.clientId, clause: '9.2', reason: 'SIP credentials leaked' });
    expect(s).toMatchObject({ serviceState: 'security_suspended', clause: '9.2' });
    await expect(suspendClient(ctx, { actor: 'system', clientId: d.clientId, clause: '9.2', reason: 'twice' })).rejects.toMatchObject({ code: 'ALREADY_SUSPENDED', clause: '9.2' });
    ctx.clock.set(new Date('2027-05-23T12:00:00+02:00'));
    await recordPayment(ctx, { actor: 'system', amountCents: 6050, reference: d.reference });
    expect(await serviceStateOf(ctx.db, d.clientId)).toBe('security_suspended');
    // The dunning suspension is closed (audited), but no reactivation: the client stays held.
    const closed = await ctx.db.select().from(auditLog).where(and(eq(auditLog.clientId, d.clientId), eq(auditLog.action, 'dunning.suspension_closed')));
    expect(closed).toHaveLength(1);
    ctx.clock.set(new Date('2027-05-23T13:00:00+02:00'));
    const r = await reactivateClient(ctx, { actor: 'system', clientId: d.clientId, reason: 'passwords rotated' });
    expect(r).toMatchObject({ serviceState: 'active', clause: '9.2' });
    const evs = (await listEvents(ctx.db, { clientId: d.clientId })).filter((e) => ['suspension', 'security_suspension', 'reactivation'].includes(e.type));
    expect(evs.map((e) => [e.type, e.clause, e.details.reason ?? null, e.details.actor])).toEqual([
      ['suspension', '9.1a', 'dunning', undefined],
      ['security_suspension', '9.2', 'SIP credentials leaked', 'system'],
      ['reactivation', '9.2', 'passwords rotated', 'system'],
    ]);
    await expect(reactivateClient(ctx, { actor: 'system', clientId: d.clientId, reason: 'again' })).rejects.toMatchObject({ code: 'NOT_SUSPENDED' });
    // A fraud suspension set by the call policy (no suspension row) is lifted by staff too.
    await setServiceState(ctx.db, d.clientId, 'security_suspended');
    expect(await reactivateClient(ctx, { actor: 'system', clientId: d.clientId, reason: 'false positive' })).toMatchObject({ serviceState: 'active', clause: '9.2' });
  });

  it('§9.1c staff suspension to minimum service; §12.2a eligible after exactly one month', async () => {
    const e = await clientWithInvoice();
    ctx.clock.set(new Date('2027-06-10T15:00:00+02:00'));
    await suspendClient(ctx, { actor: 'system', clientId: e.clientId, clause: '9.1c', reason: 'resale of the service (§4.7)' });
    expect(await serviceStateOf(ctx.db, e.clientId)).toBe('minimum_service');
    ctx.clock.set(new Date('2027-06-11T10:00:00+02:00'));
    await recordPayment(ctx, { actor: 'system', amountCents: 6050, reference: e.reference });
    expect(await serviceStateOf(ctx.db, e.clientId)).toBe('minimum_service'); // a payment lifts dunning only
    const run = async (date: string): Promise<void> => {
      ctx.clock.set(startOfLocalDay(date));
      await runDunning(ctx.db, startOfLocalDay(date));
    };
    await run('2027-07-09');
    expect(await types(e.clientId)).not.toContain('termination_eligible:12.2a');
    await run('2027-07-10');
    expect((await types(e.clientId)).filter((t) => t === 'termination_eligible:12.2a')).toHaveLength(1);
  });

  it('a missed evaluation catches up: reminders and notice are recorded before the suspension', async () => {
    const f = await clientWithInvoice();
    await dunTo(25, 25);
    const evs = await listEvents(ctx.db, { clientId: f.clientId });
    expect(evs.map((x) => x.type)).toEqual(['reminder', 'reminder', 'formal_notice', 'suspension']);
  });
});

describeEachDb('§5.2 interest days are local calendar days', () => {
  it('over the DST change (26 March 2028) and the leap day (29 February 2028)', () => {
    // Due 27 February 2028; paid 27 March 2028 at 00:30 Brussels (= 26 March 22:30 UTC): 29 days.
    const paid = new Date('2027-03-27T00:30:00+02:00'.replace('2027', '2028'));
    expect(paid.toISOString()).toBe('2028-03-26T22:30:00.000Z');
    expect(lateInterest('2028-02-27', [{ amountCents: 100_000, at: paid }])).toEqual({ cents: 953, days: 29 }); // 1000 € × 12 % × 29 / 365 = 9.534…
    // Paid at 23:59 on 26 March (summer time already): 28 days.
    expect(lateInterest('2028-02-27', [{ amountCents: 100_000, at: new Date('2028-03-26T23:59:00+02:00') }])).toEqual({ cents: 921, days: 28 });
    // Autumn change (29 October 2028): 00:30 on 30 October is 29 October 23:30 UTC.
    expect(lateInterest('2028-10-01', [{ amountCents: 36_500, at: new Date('2028-10-30T00:30:00+01:00') }])).toEqual({ cents: 348, days: 29 });
  });
});
