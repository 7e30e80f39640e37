/**
 * Payments and dunning over a real database (PGlite; PostgreSQL with TEST_DATABASE_URL):
 * matching, partial and over-payment, client credit, unknown payments, idempotency, the
 * D+1/D+10/D+15/D+20/D+21 boundaries of the daily job, §9.1b, §12.2a, reactivation and
 * §5.2 interest as a pending item.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { addDays, startOfLocalDay } from '../../src/kernel/time.ts';
import { balanceCents, collectPendingItems, issueInvoice } from '../../src/modules/billing/index.ts';
import { invoices } from '../../src/modules/billing/schema.ts';
import { createClient } from '../../src/modules/customers/create-client.ts';
import { serviceStateOf } from '../../src/modules/customers/service-state.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import { clientCreditCents, recordPayment, runDunning } from '../../src/modules/payments/index.ts';
import { payments } from '../../src/modules/payments/schema.ts';
import { describeEachDb, migratedTestDatabase } from '../support/db.ts';
import { testContext } from '../support/context.ts';

describeEachDb('payments and dunning', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let ctx: ReturnType<typeof testContext>;

  const ISSUE = '2027-04-01T10:00:00+02:00';
  const DUE = '2027-05-01';
  const line = (amountCents: number) => ({ type: 'one_off' as const, productCode: 'X', zone: null, quantity: 1, periodStart: null, periodEnd: null, amountCents, vatRate: 21, clause: '8.1' });

  async function clientWithInvoice(name: string, depositCents = 0, runKey = 'test:1', at = ISSUE): Promise<{ clientId: string; invoiceId: string; number: string; reference: string }> {
    ctx.clock.set(new Date(at));
    const c = await createClient(ctx, { principal: 'system', name, depositCents });
    const invoiceId = (await ctx.db.transaction((tx) => issueInvoice(tx, { clientId: c.id, runKey, at: ctx.clock.now(), clause: '8.1', lines: [line(5000)] })))!;
    const [inv] = await ctx.db.select().from(invoices).where(eq(invoices.id, invoiceId));
    return { clientId: c.id, invoiceId, number: inv!.number, reference: inv!.structuredReference };
  }
  const dunAt = async (day: number): Promise<void> => {
    const at = startOfLocalDay(addDays(DUE, day));
    ctx.clock.set(at);
    await runDunning(ctx.db, at);
  };
  const types = async (clientId: string) => (await listEvents(ctx.db, { clientId })).map((e) => `${e.type}:${e.clause ?? ''}`);

  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
    ctx = testContext(database, ISSUE);
  });
  beforeEach(() => {
    ctx = testContext(database, ISSUE); // each test starts its own simulated timeline
  });
  afterAll(async () => {
    await drop();
  });

  it('dunning boundaries, suspension at D+21 (not D+20), §12.2a, partial payment, reactivation, interest and credit', async () => {
    const a = await clientWithInvoice('Dunning A');
    expect(a.reference).toMatch(/^\+\+\+\d{3}\/\d{4}\/\d{5}\+\+\+$/);
    await dunAt(0);
    expect(await types(a.clientId)).toEqual([]);
    await dunAt(1);
    expect(await types(a.clientId)).toEqual(['reminder:5.2']);
    await dunAt(9);
    expect(await types(a.clientId)).toHaveLength(1);
    await dunAt(10);
    expect(await types(a.clientId)).toEqual(['reminder:5.2', 'reminder:8.8']);
    await dunAt(14);
    await dunAt(15);
    expect((await types(a.clientId)).at(-1)).toBe('formal_notice:9.1a');
    await dunAt(20);
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('active');
    await dunAt(21);
    await dunAt(21); // a rerun changes nothing
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('minimum_service');
    expect((await types(a.clientId)).filter((t) => t === 'suspension:9.1a')).toHaveLength(1);

    // Partial payment, reference written with *** and spaces: still overdue → still suspended.
    ctx.clock.set(new Date('2027-05-25T09:00:00+02:00'));
    const tolerant = a.reference.replaceAll('+', '*').replaceAll('/', ' ');
    const p1 = await recordPayment(ctx, { actor: 'system', amountCents: 3000, reference: tolerant });
    expect(p1).toMatchObject({ clientId: a.clientId, matchedBy: 'reference', allocations: [{ invoiceNumber: a.number, amountCents: 3000 }], creditCents: 0 });
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('minimum_service');
    expect(await balanceCents(ctx.db, a.clientId)).toBe(3050);

    // §12.2a: one calendar month after 22 May (D+21) → 22 June.
    await dunAt(51); // 21 June
    expect(await types(a.clientId)).not.toContain('termination_eligible:12.2a');
    await dunAt(52); // 22 June
    expect((await types(a.clientId)).filter((t) => t === 'termination_eligible:12.2a')).toHaveLength(1);

    // Over-payment by invoice number: paid, reactivation at the payment instant, 10.00 € credit.
    const payAt = new Date('2027-06-25T15:30:00+02:00');
    ctx.clock.set(payAt);
    const p2 = await recordPayment(ctx, { actor: 'system', amountCents: 4050, invoiceNumber: a.number });
    expect(p2).toMatchObject({ matchedBy: 'invoice_number', allocations: [{ amountCents: 3050 }], creditCents: 1000 });
    expect(await serviceStateOf(ctx.db, a.clientId)).toBe('active');
    const events = await listEvents(ctx.db, { clientId: a.clientId, type: 'reactivation' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ clause: '9.1a', at: payAt });
    expect(await clientCreditCents(ctx.db, a.clientId)).toBe(1000);
    expect(await balanceCents(ctx.db, a.clientId)).toBe(-1000);

    // Pending items for the next invoice: the §8.8 fee and the §5.2 interest, vatRate 0.
    // 3000 × 24 days (25 May) + 3050 × 55 days (25 June) = 239 750 × 12 % / 365 = 78.82… → 79
    const pending = await ctx.db.transaction((tx) => collectPendingItems(tx, a.clientId, ctx.clock.now()));
    expect(pending.lines.map((l) => [l.type, l.amountCents, l.vatRate, l.clause, l.description])).toEqual([
      ['reminder_fee', 1500, 0, '8.8', `Frais de rappel — facture ${a.number}`],
      ['interest', 79, 0, '5.2', `Intérêts de retard — facture ${a.number} (55 jours)`],
    ]);

    // The next invoice takes the credit at issue.
    const next = (await ctx.db.transaction((tx) => issueInvoice(tx, { clientId: a.clientId, runKey: 'test:2', at: ctx.clock.now(), clause: '8.1', lines: [line(5000)] })))!;
    expect(await clientCreditCents(ctx.db, a.clientId)).toBe(0);
    expect(await balanceCents(ctx.db, a.clientId)).toBe(5050);
    const [inv2] = await ctx.db.select().from(invoices).where(eq(invoices.id, next));
    expect(inv2!.status).toBe('open');
  });

  it('§9.1b: a deposit covering the overdue debt prevents the suspension', async () => {
    const b = await clientWithInvoice('Deposit B', 10_000);
    await dunAt(25);
    expect(await types(b.clientId)).toEqual(['reminder:5.2', 'reminder:8.8', 'formal_notice:9.1a']);
    expect(await serviceStateOf(ctx.db, b.clientId)).toBe('active');
  });

  it('a payment naming the client goes to its oldest open invoice; leftover is credit', async () => {
    const c = await clientWithInvoice('Client C');
    ctx.clock.set(new Date('2027-04-15T10:00:00+02:00'));
    const second = (await ctx.db.transaction((tx) => issueInvoice(tx, { clientId: c.clientId, runKey: 'test:2', at: ctx.clock.now(), clause: '8.1', lines: [line(1000)] })))!;
    const p = await recordPayment(ctx, { actor: 'system', amountCents: 8000, clientId: c.clientId });
    expect(p.matchedBy).toBe('client');
    expect(p.allocations.map((x) => x.amountCents)).toEqual([6050, 1210]);
    expect(p.creditCents).toBe(740);
    const [row] = await ctx.db.select().from(invoices).where(and(eq(invoices.id, second)));
    expect(row!.status).toBe('paid');
    expect(await balanceCents(ctx.db, c.clientId)).toBe(-740);
    // Paid before the due date: no interest.
    const pending = await ctx.db.transaction((tx) => collectPendingItems(tx, c.clientId, ctx.clock.now()));
    expect(pending.lines).toEqual([]);
  });

  it('an unknown payment is kept unallocated; an external id makes it idempotent', async () => {
    ctx.clock.set(new Date('2027-04-20T10:00:00+02:00'));
    const first = await recordPayment(ctx, { actor: 'system', amountCents: 1234, reference: '+++999/9999/99948+++', externalId: 'bank-tx-1' });
    expect(first).toMatchObject({ clientId: null, matchedBy: 'unallocated', allocations: [], creditCents: 0 });
    const again = await recordPayment(ctx, { actor: 'system', amountCents: 1234, reference: '+++999/9999/99948+++', externalId: 'bank-tx-1' });
    expect(again.id).toBe(first.id);
    expect(await ctx.db.select().from(payments).where(eq(payments.externalId, 'bank-tx-1'))).toHaveLength(1);
  });
});
