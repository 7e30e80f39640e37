/**
 * Bank statement import over a real database: the CODA and CAMT.053 samples become
 * payments through the matching (OGM, OGM written without +++ and with spaces, invoice
 * number in free text, payer IBAN learnt from an earlier matched payment), debits listed,
 * unknown payments queued then allocated by staff (audited); a second import changes
 * nothing (0 new); a malformed file is refused whole; reactivation at the import instant.
 */
import { readFileSync } from 'node:fs';
import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { isAppError } from '../../src/kernel/errors.ts';
import { addDays, startOfLocalDay } from '../../src/kernel/time.ts';
import { auditLog } from '../../src/modules/audit/schema.ts';
import { balanceCents, collectPendingItems, issueInvoice } from '../../src/modules/billing/index.ts';
import { createClient } from '../../src/modules/customers/create-client.ts';
import { serviceStateOf } from '../../src/modules/customers/service-state.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import { allocatePayment, clientCreditCents, importBankStatement, runDunning, unallocatedPayments } from '../../src/modules/payments/index.ts';
import { allocations, bankEntries, bankStatements, payments } from '../../src/modules/payments/schema.ts';
import { testContext } from '../support/context.ts';
import { describeEachDb, migratedTestDatabase } from '../support/db.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/bank/${name}`, import.meta.url), 'utf8');
const line = (amountCents: number) => ({ type: 'one_off' as const, productCode: 'X', zone: null, quantity: 1, periodStart: null, periodEnd: null, amountCents, vatRate: 21, clause: '8.1' });

describeEachDb('bank statement import', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let ctx: ReturnType<typeof testContext>;
  let ids: { a: string; b: string; c: string };

  beforeEach(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
    ctx = testContext(database, '2027-04-01T10:00:00+02:00');
    // Invoices 2027-000001 (A), 2027-000002 (B), 2027-000003 (C): 60.50 € each, due 1 May.
    const a = await createClient(ctx, { principal: 'system', name: 'Bravo SA' });
    const b = await createClient(ctx, { principal: 'system', name: 'Charlie SRL' });
    const c = await createClient(ctx, { principal: 'system', name: 'Delta SPRL' });
    ids = { a: a.id, b: b.id, c: c.id };
    for (const id of [a.id, b.id, c.id]) await ctx.db.transaction((tx) => issueInvoice(tx, { clientId: id, runKey: 'test:1', at: ctx.clock.now(), clause: '8.1', lines: [line(5000)] }));
  });
  afterEach(async () => {
    await drop();
  });

  const rows = async () => ({
    statements: (await ctx.db.select({ n: count() }).from(bankStatements))[0]!.n,
    entries: (await ctx.db.select({ n: count() }).from(bankEntries))[0]!.n,
    payments: (await ctx.db.select({ n: count() }).from(payments))[0]!.n,
    allocations: (await ctx.db.select({ n: count() }).from(allocations))[0]!.n,
  });

  it('imports the CODA sample: matching, IBAN learnt, debit listed, unknown queued; a second import changes nothing', async () => {
    // D+21 (22 May): the three clients are suspended by dunning.
    for (let d = 1; d <= 21; d++) await runDunning(ctx.db, startOfLocalDay(addDays('2027-05-01', d)));
    expect(await serviceStateOf(ctx.db, ids.a)).toBe('minimum_service');

    const importAt = new Date('2027-05-25T10:00:00+02:00');
    ctx.clock.set(importAt);
    const s = await importBankStatement(ctx, { actor: 'system', text: fixture('statement-valid.cod') });
    expect(s).toMatchObject({ format: 'coda', alreadyImported: false, entries: 6, credits: 5, debits: 1, new: 5, matched: 4, unallocated: 1, duplicates: 0, creditCents: 10561 });
    expect(s.items.map((i) => [i.status, i.matchedBy, i.clientId, i.invoices])).toEqual([
      ['new', 'reference', ids.a, ['2027-000001']],
      ['new', 'invoice_number', ids.b, ['2027-000002']],
      ['new', 'reference', ids.c, ['2027-000003']],
      ['new', 'iban', ids.a, []],
      ['new', 'unallocated', null, []],
      ['ignored', null, null, []],
    ]);
    // A paid in full (value date 20 May) → reactivated at the import instant; the later 20.00 € is credit.
    expect(await serviceStateOf(ctx.db, ids.a)).toBe('active');
    const react = await listEvents(ctx.db, { clientId: ids.a, type: 'reactivation' });
    expect(react.map((e) => [e.at.getTime(), e.clause])).toEqual([[importAt.getTime(), '9.1a']]);
    expect(await clientCreditCents(ctx.db, ids.a)).toBe(2000);
    expect(await balanceCents(ctx.db, ids.a)).toBe(-2000);
    // §5.2: 6050 × 12 % × 19 days (1 May → 20 May, the value date) / 365 = 37.79 → 38.
    const pending = await ctx.db.transaction((tx) => collectPendingItems(tx, ids.a, importAt));
    expect(pending.lines.find((l) => l.type === 'interest')).toMatchObject({ amountCents: 38, description: 'Intérêts de retard — facture 2027-000001 (19 jours)' });
    // B and C paid in part: still suspended.
    expect(await serviceStateOf(ctx.db, ids.b)).toBe('minimum_service');
    expect(await balanceCents(ctx.db, ids.b)).toBe(6050 - 1234);

    const before = await rows();
    expect(before).toMatchObject({ statements: 1, entries: 6, payments: 5 });
    const again = await importBankStatement(ctx, { actor: 'system', text: fixture('statement-valid.cod') });
    expect(again).toMatchObject({ alreadyImported: true, new: 0, duplicates: 6, matched: 0, unallocated: 0 });
    expect(await rows()).toEqual(before);

    // The unknown 7.77 € waits in the queue; staff allocate it to C (audited), C's invoice takes it.
    const queue = await unallocatedPayments(ctx.db);
    expect(queue.map((p) => [p.amountCents, p.payerIban, p.freeText])).toEqual([[777, 'BE43068999999501', 'don anonyme']]);
    const allocated = await allocatePayment(ctx, { actor: 'system', paymentId: queue[0]!.id, clientId: ids.c, note: 'phoned: Delta paid from a private account' });
    expect(allocated).toMatchObject({ clientId: ids.c, matchedBy: 'staff', allocations: [{ invoiceNumber: '2027-000003', amountCents: 777 }], creditCents: 0 });
    expect(await unallocatedPayments(ctx.db)).toEqual([]);
    const audit = await ctx.db.select().from(auditLog).where(eq(auditLog.action, 'payment.allocate'));
    expect(audit).toHaveLength(1);
    expect(audit[0]!.after).toMatchObject({ note: 'phoned: Delta paid from a private account' });
    await expect(allocatePayment(ctx, { actor: 'system', paymentId: queue[0]!.id, clientId: ids.b })).rejects.toMatchObject({ code: 'PAYMENT_ALREADY_ALLOCATED' });
  });

  it('imports the CAMT.053 sample the same way, and an entry already imported from another statement is a duplicate', async () => {
    ctx.clock.set(new Date('2027-05-21T12:00:00+02:00'));
    const s = await importBankStatement(ctx, { actor: 'system', text: fixture('statement-valid.xml') });
    expect(s).toMatchObject({ format: 'camt053', new: 5, matched: 4, unallocated: 1, debits: 1, duplicates: 0 });
    expect(s.items.map((i) => i.matchedBy)).toEqual(['reference', 'invoice_number', 'reference', 'iban', 'unallocated', null]);
    // A reissued statement (other id) repeating entry CAMT-0001: that entry is a duplicate.
    const reissued = fixture('statement-valid.xml').replace('<Id>STMT-2027-002</Id>', '<Id>STMT-2027-002-BIS</Id>');
    const r = await importBankStatement(ctx, { actor: 'system', text: reissued });
    expect(r).toMatchObject({ alreadyImported: false, new: 0, duplicates: 6 });
    expect((await ctx.db.select({ n: count() }).from(payments))[0]!.n).toBe(5);
  });

  it('refuses a malformed file whole, naming the position; nothing is recorded', async () => {
    for (const [file, field] of [
      ['bad-trailer-sum.cod', 'line 22, column 38'],
      ['bad-record-length.cod', 'line 4, column 128'],
      ['missing-amount.xml', 'Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt'],
      ['bad-xml.xml', 'line 35, column 18'],
    ] as const) {
      const e: unknown = await importBankStatement(ctx, { actor: 'system', text: fixture(file) }).catch((x: unknown) => x);
      expect(isAppError(e) && { code: e.code, field: e.field, status: e.status }).toEqual({ code: 'BANK_FILE_INVALID', field, status: 422 });
    }
    expect(await rows()).toEqual({ statements: 0, entries: 0, payments: 0, allocations: 0 });
  });
});
