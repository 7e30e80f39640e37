/** The billing run over a real database (PGlite; PostgreSQL with TEST_DATABASE_URL): §8.1, §8.3, numbering, reruns. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../../test/support/db.ts';
import { testContext } from '../../../test/support/context.ts';
import type { Database } from '../../db/client.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { answerCdr, closeCdr, openCdr, recordCdr } from '../../telephony/cdrs.ts';
import { createProduct } from '../catalog/create-product.ts';
import { createTariffZone } from '../catalog/create-tariff-zone.ts';
import { completeInstallation } from '../customers/complete-installation.ts';
import { createClient } from '../customers/create-client.ts';
import { createContract } from '../customers/create-contract.ts';
import { signContract } from '../customers/sign-contract.ts';
import { rateCdr } from '../rating/rate-client-month.ts';
import { clientsWithLiveContract } from '../customers/contract-store.ts';
import { randomUUID } from 'node:crypto';
import { changeProductPrice } from '../catalog/change-price.ts';
import { terminateContract } from '../customers/terminate-contract.ts';
import { createUsers } from '../provisioning/create-users.ts';
import { deleteUsers } from '../provisioning/delete-users.ts';
import { billClient, readRunFacts } from './bill-client.ts';
import { balanceCents, listInvoices, previewRun, runBilling } from './index.ts';
import { invoices as invoicesTable } from './schema.ts';

describeEachDb('billing run', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let ctx: ReturnType<typeof testContext>;
  const at = (s: string): Date => {
    ctx.clock.set(new Date(s));
    return ctx.clock.now();
  };

  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
    ctx = testContext(database, '2027-01-04T08:00:00+01:00');
    await createProduct(ctx, { actor: 'system', code: 'OPT', kind: 'recurring', unit: 'fixed', priceCents: 1000 });
    await createProduct(ctx, { actor: 'system', code: 'PACK', kind: 'pack', unit: 'fixed', priceCents: 900, packMinutes: 1, packZones: ['BE-MOBILE'] });
    await createProduct(ctx, { actor: 'system', code: 'ACT', kind: 'one_off', priceCents: 4900 });
    await createTariffZone(ctx, { actor: 'system', zone: 'BE-MOBILE', prefixes: ['+3247'], perMinuteMicros: 85_000 });
  });
  afterAll(async () => {
    await drop();
  });

  it('invoices one-offs at installation, then the run once; a rerun issues nothing and numbers stay gap-free', async () => {
    const client = await createClient(ctx, { principal: 'system', name: 'Billing test' });
    const draft = await createContract(ctx, {
      actor: 'system',
      clientId: client.id,
      lines: [
        { product: 'OPT', quantity: 2, priceCents: 800 },
        { product: 'PACK', quantity: 1 },
        { product: 'ACT', quantity: 1 },
      ],
    });
    await signContract(ctx, { actor: 'system', clientId: client.id, contractId: draft.id });
    at('2027-01-15T14:00:00+01:00');
    await completeInstallation(ctx, { actor: 'system', clientId: client.id });

    // §8.3: two calls of 40 s against a 60 s allowance prorated 17/31 → floor(60 × 17/31) = 32 s.
    const startedAt = at('2027-01-20T10:00:00+01:00');
    const base = { clientId: client.id, userId: null, callId: null, direction: 'outbound' as const, fromExtension: '101', dialled: '0470000000', destination: '+32470000000' };
    const a = await recordCdr(ctx.db, { ...base, allowed: true, sipStatus: 200, startedAt, billableSeconds: 40 });
    const b = await recordCdr(ctx.db, { ...base, allowed: true, sipStatus: 200, startedAt: new Date(startedAt.getTime() + 60_000), billableSeconds: 40 });
    await rateCdr(ctx.db, b, ctx.clock.now());
    await rateCdr(ctx.db, a, ctx.clock.now());
    const rated = async () => (await ctx.db.select().from(cdrs).where(eq(cdrs.clientId, client.id))).sort((x, y) => x.startedAt.getTime() - y.startedAt.getTime());
    const first = await rated();
    expect(first.map((c) => [c.packSeconds, c.costCents])).toEqual([
      [32, 2], // 8 s: ceil(8 × 85000 / 600000) = ceil(1.13)
      [0, 6], // 40 s: ceil(5.67)
    ]);
    await rateCdr(ctx.db, a, ctx.clock.now());
    expect((await rated()).map((c) => [c.packSeconds, c.costCents])).toEqual(first.map((c) => [c.packSeconds, c.costCents]));

    const runAt = new Date('2027-01-27T23:00:00Z'); // 28 Jan 00:00 Brussels
    // The preview (§8.1 run preview) bills exactly what the run will, and issues nothing.
    const preview = await previewRun(ctx.db, runAt);
    expect(preview.invoices).toBe(1);
    expect((await listInvoices(ctx.db, client.id)).map((i) => i.number)).toEqual(['2027-000001']);
    expect((await rated()).every((c) => c.invoiceId === null)).toBe(true);
    const issued = await runBilling({ db: ctx.db, at: runAt });
    expect(issued).toHaveLength(1);
    expect(await runBilling({ db: ctx.db, at: runAt })).toEqual([]);

    const invoices = await listInvoices(ctx.db, client.id);
    expect(invoices.map((i) => i.number)).toEqual(['2027-000001', '2027-000002']);
    expect(invoices[0]!.lines.map((l) => [l.type, l.productCode, l.amountCents])).toEqual([['one_off', 'ACT', 4900]]);
    const run = invoices[1]!;
    expect(run.lines.map((l) => [l.type, l.productCode ?? l.zone, l.quantity, l.amountCents])).toEqual([
      ['prorata', 'OPT', 2, 877], // 800 × 2 × 17/31 = 877.42
      ['recurring', 'OPT', 2, 1600],
      ['prorata', 'PACK', 1, 494],
      ['recurring', 'PACK', 1, 900],
      ['traffic', 'BE-MOBILE', 2, 8],
    ]);
    expect(run).toMatchObject({ issueDate: '2027-01-28', dueDate: '2027-02-27', totalExclVatCents: 3879, vatCents: 815, totalInclVatCents: 4694 });
    expect(preview.items[0]!.lines.map((l) => [l.type, l.product ?? l.zone, l.quantity, l.amountCents])).toEqual(run.lines.map((l) => [l.type, l.productCode ?? l.zone, l.quantity, l.amountCents]));
    expect(preview.totalInclVatCents).toBe(4694);
    expect((await rated()).every((c) => c.invoiceId === run.id)).toBe(true);
    expect(await balanceCents(ctx.db, client.id)).toBe(5929 + 4694);

    // Invoiced calls keep their rating when the month is rated again.
    await rateCdr(ctx.db, a, ctx.clock.now());
    expect((await rated()).map((c) => [c.packSeconds, c.costCents])).toEqual(first.map((c) => [c.packSeconds, c.costCents]));
  });

  it('§8.1 traffic up to the run instant: a call across midnight of the run, a call at the instant, a late CDR', async () => {
    ctx = testContext(database, '2027-01-04T09:00:00+01:00'); // a clock of its own: the test above moved it on
    const client = await createClient(ctx, { principal: 'system', name: 'Midnight test' });
    const draft = await createContract(ctx, { actor: 'system', clientId: client.id, lines: [{ product: 'OPT', quantity: 1 }] });
    await signContract(ctx, { actor: 'system', clientId: client.id, contractId: draft.id });
    await completeInstallation(ctx, { actor: 'system', clientId: client.id });
    const base = { clientId: client.id, userId: null, callId: null, direction: 'outbound' as const, fromExtension: '201', dialled: '0470000000', destination: '+32470000000', allowed: true };
    const runAt = new Date('2027-01-27T23:00:00Z'); // 28 Jan 00:00 Brussels

    // Answered at 23:59:30 on the 27th, still in progress at the run instant: not rated, not invoiced by this run.
    const across = await openCdr(ctx.db, { ...base, startedAt: new Date('2027-01-27T22:59:25Z') });
    await answerCdr(ctx.db, across, new Date('2027-01-27T22:59:30Z'));
    // Started at the run instant exactly: the next run's.
    const atInstant = await recordCdr(ctx.db, { ...base, sipStatus: 200, startedAt: runAt, billableSeconds: 60 });
    // Ended one second before the run instant: this run's (60 s → ceil(60 × 85000 / 600000) = 9).
    await recordCdr(ctx.db, { ...base, sipStatus: 200, startedAt: new Date('2027-01-27T22:58:59Z'), billableSeconds: 60 });

    at('2027-01-28T00:00:00+01:00');
    await runBilling({ db: ctx.db, at: runAt });
    const january = (await listInvoices(ctx.db, client.id)).at(-1)!;
    expect(january.lines.filter((l) => l.type === 'traffic').map((l) => [l.zone, l.quantity, l.amountCents])).toEqual([['BE-MOBILE', 1, 9]]);

    // The call across midnight ends at 00:01:30 (120 s → 17); a CDR of 25 January arrives late (30 s → 5).
    await closeCdr(ctx.db, across, { endedAt: new Date('2027-01-27T23:01:30Z'), answeredAt: new Date('2027-01-27T22:59:30Z'), sipStatus: 200, hangupBy: 'caller', endReason: 'bye' });
    const late = await recordCdr(ctx.db, { ...base, sipStatus: 200, startedAt: new Date('2027-01-25T09:00:00Z'), billableSeconds: 30 });
    const rows = async () => ctx.db.select().from(cdrs).where(eq(cdrs.clientId, client.id));
    expect((await rows()).filter((c) => c.invoiceId === january.id)).toHaveLength(1);

    const febRun = new Date('2027-02-27T23:00:00Z');
    at('2027-02-28T00:00:00+01:00');
    await runBilling({ db: ctx.db, at: febRun });
    const february = (await listInvoices(ctx.db, client.id)).at(-1)!;
    expect(february.id).not.toBe(january.id);
    // 17 + 9 (the call at the instant) + 5 (late, rated in start order) = 31, one line.
    expect(february.lines.filter((l) => l.type === 'traffic').map((l) => [l.zone, l.quantity, l.amountCents])).toEqual([['BE-MOBILE', 3, 31]]);
    const byId = new Map((await rows()).map((c) => [c.id, c]));
    for (const id of [across, atInstant, late]) expect(byId.get(id)).toMatchObject({ invoiceId: february.id });
    expect(byId.get(across)).toMatchObject({ billableSeconds: 120, costCents: 17 });
  });
  it('§8.1 two clients at once: each invoiced once, numbers gap-free, the cursor never passes an unfinished client; a rerun from it completes', async () => {
    ctx = testContext(database, '2027-01-04T09:00:00+01:00');
    const mine: string[] = [];
    for (let i = 0; i < 7; i++) {
      const client = await createClient(ctx, { principal: 'system', name: `Concurrent ${i}` });
      const draft = await createContract(ctx, { actor: 'system', clientId: client.id, lines: [{ product: 'OPT', quantity: 1 }] });
      await signContract(ctx, { actor: 'system', clientId: client.id, contractId: draft.id });
      await completeInstallation(ctx, { actor: 'system', clientId: client.id });
      mine.push(client.id);
    }
    const marchRun = new Date('2027-03-27T23:00:00Z'); // 28 Mar 00:00 Brussels
    at('2027-03-28T00:00:00+01:00');
    const invoicedInMarch = async (): Promise<Set<string>> =>
      new Set((await ctx.db.select({ clientId: invoicesTable.clientId }).from(invoicesTable).where(eq(invoicesTable.runKey, 'run:2027-03'))).map((r) => r.clientId));
    const cursors: string[] = [];
    const saveCursor = async (cursor: string): Promise<void> => {
      // Every one of these clients up to the cursor is committed when the cursor is saved.
      const done = await invoicedInMarch();
      expect(mine.filter((id) => id <= cursor && !done.has(id))).toEqual([]);
      cursors.push(cursor);
    };
    class Stop extends Error {}
    let finished = 0;
    await expect(
      runBilling({
        db: ctx.db,
        at: marchRun,
        concurrency: 2,
        saveCursor,
        afterClient: () => (++finished === 4 ? Promise.reject(new Stop()) : Promise.resolve()),
      }),
    ).rejects.toBeInstanceOf(Stop);
    const afterStop = await invoicedInMarch();
    expect(afterStop.size).toBeGreaterThanOrEqual(4);
    // The first error stops both workers before their next client.
    expect(afterStop.size).toBeLessThanOrEqual(5);
    expect(cursors.length).toBeGreaterThan(0);
    expect([...cursors].sort()).toEqual(cursors); // saved in increasing order

    await runBilling({ db: ctx.db, at: marchRun, concurrency: 2, cursor: cursors.at(-1)!, saveCursor });
    const march = await ctx.db.select().from(invoicesTable).where(eq(invoicesTable.runKey, 'run:2027-03'));
    for (const id of mine) expect(march.filter((i) => i.clientId === id)).toHaveLength(1);
    expect(new Set(march.map((i) => i.clientId)).size).toBe(march.length);
    // RULES.md "Invoice numbers": gap-free over the year, whatever the order the clients committed in.
    const numbers = (await ctx.db.select({ number: invoicesTable.number }).from(invoicesTable).where(eq(invoicesTable.kind, 'invoice'))).map((r) => r.number).sort();
    expect(numbers).toEqual(numbers.map((_, i) => `2027-${String(i + 1).padStart(6, '0')}`));
    expect(cursors.at(-1)).toBe([...(await clientsWithLiveContract(ctx.db))].sort().at(-1));
  });
  it('§8.1 the facts read for a group of clients give the same invoices as reading them client by client; stale facts are not used', async () => {
    ctx = testContext(database, '2027-03-25T09:00:00+01:00');
    await createProduct(ctx, { actor: 'system', code: 'SEAT', kind: 'recurring', unit: 'user', priceCents: 1250 });
    // §5.6: a price change in the period billed in advance (notice: more than 30 days).
    await changeProductPrice(ctx, { actor: 'system', productCode: 'SEAT', priceCents: 1400, effective: '2027-05-01' });
    const newClient = async (name: string, lines: { product: string; quantity: number; priceCents?: number }[], installOn: string): Promise<string> => {
      const client = await createClient(ctx, { principal: 'system', name });
      const draft = await createContract(ctx, { actor: 'system', clientId: client.id, lines });
      await signContract(ctx, { actor: 'system', clientId: client.id, contractId: draft.id });
      at(installOn);
      await completeInstallation(ctx, { actor: 'system', clientId: client.id });
      return client.id;
    };
    // An agreed price beside the catalogue's, and calls recorded but not rated (rated by the run).
    const agreed = await newClient('Agreed', [{ product: 'SEAT', quantity: 1, priceCents: 999 }, { product: 'OPT', quantity: 3 }], '2027-04-02T10:00:00+02:00');
    await createUsers(ctx, { actor: 'system', clientId: agreed, users: [{ extension: '401' }] });
    const base = { clientId: agreed, userId: null, callId: null, direction: 'outbound' as const, fromExtension: '401', dialled: '0470000000', destination: '+32470000000', allowed: true, sipStatus: 200 };
    await recordCdr(ctx.db, { ...base, startedAt: new Date('2027-04-21T08:00:00Z'), billableSeconds: 125 });
    await recordCdr(ctx.db, { ...base, startedAt: new Date('2027-03-31T21:59:00Z'), billableSeconds: 30 }); // 31 March, Brussels: another month to rate
    // Terminating on a later date: billed through its end date only.
    const ending = await newClient('Ending', [{ product: 'OPT', quantity: 1 }], '2027-04-05T10:00:00+02:00');
    at('2027-04-06T10:00:00+02:00');
    await terminateContract(ctx, { actor: 'system', clientId: ending, by: 'client', ground: 'early', effective: '2027-05-10' });
    // Users counted at the run instant: one deleted before it, one created after it (not counted).
    const seats = await newClient('Seats', [{ product: 'SEAT', quantity: 1 }, { product: 'PACK', quantity: 2 }], '2027-04-10T10:00:00+02:00');
    const users = await createUsers(ctx, { actor: 'system', clientId: seats, users: [{ extension: '301' }, { extension: '302' }, { extension: '303' }] });
    at('2027-04-20T10:00:00+02:00');
    await deleteUsers(ctx, { actor: 'system', clientId: seats, userIds: [users[0]!.user.id] });
    const aprilRun = new Date('2027-04-27T22:00:00Z'); // 28 Apr 00:00 Brussels
    at('2027-04-28T00:00:30+02:00');
    await createUsers(ctx, { actor: 'system', clientId: seats, users: [{ extension: '304' }] });

    type Line = { type: string; zone: string | null; quantity: number; periodStart: string | null; periodEnd: string | null; amountCents: number };
    const shape = <L extends Line>(lines: L[], code: (l: L) => string | null) => lines.map((l) => [l.type, code(l) ?? l.zone, l.quantity, l.periodStart, l.periodEnd, l.amountCents]);
    // Lines read for another contract than the current one are not used: the client's own are read.
    const seatsPreview = (await previewRun(ctx.db, aprilRun, { clientId: seats })).items[0]!;
    class Rollback extends Error {}
    let stale: unknown[] = [];
    await expect(
      ctx.db.transaction(async (tx) => {
        const facts = (await readRunFacts(tx, [seats], aprilRun)).get(seats)!;
        const id = await billClient(tx, seats, aprilRun, { ...facts, contract: { contractId: randomUUID(), lines: [] } });
        stale = shape((await listInvoices(tx, seats)).find((i) => i.id === id)!.lines, (l) => l.productCode);
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    expect(stale).toEqual(shape(seatsPreview.lines, (l) => l.product));
    expect(stale).toContainEqual(['prorata', 'SEAT', 2, '2027-04-10', '2027-04-30', 1750]); // 1250 × 2 × 21/30, the 2 users at the instant
    expect(stale).toContainEqual(['recurring', 'SEAT', 2, '2027-05-01', '2027-05-31', 2800]); // the version of 1 May

    // Every live client (those of the tests above too: §8.5 regularisation checks) billed by
    // groups of 2, two at once, against the same run read client by client (the preview).
    const preview = await previewRun(ctx.db, aprilRun);
    expect(preview.items.length).toBeGreaterThanOrEqual(10);
    const issued = await runBilling({ db: ctx.db, at: aprilRun, concurrency: 2, groupSize: 2 });
    expect(issued).toHaveLength(preview.items.length);
    const april = await ctx.db.select().from(invoicesTable).where(eq(invoicesTable.runKey, 'run:2027-04'));
    for (const item of preview.items) {
      const inv = april.find((i) => i.clientId === item.clientId)!;
      const full = (await listInvoices(ctx.db, item.clientId)).find((i) => i.id === inv.id)!;
      expect([full.periodStart, full.periodEnd, full.totalExclVatCents, full.vatCents, full.totalInclVatCents]).toEqual([item.periodStart, item.periodEnd, item.totalExclVatCents, item.vatCents, item.totalInclVatCents]);
      expect(shape(full.lines, (l) => l.productCode)).toEqual(shape(item.lines, (l) => l.product));
    }
    const byClient = (id: string) => shape((preview.items.find((i) => i.clientId === id)?.lines ?? []), (l) => l.product);
    expect(byClient(agreed)).toContainEqual(['prorata', 'SEAT', 1, '2027-04-02', '2027-04-30', 966]); // 999 × 29/30, the agreed price
    expect(byClient(agreed).filter((l) => l[0] === 'traffic')).toEqual([['traffic', 'BE-MOBILE', 2, null, null, 18 + 5]]);
    expect(byClient(ending).at(-1)).toEqual(['prorata', 'OPT', 1, '2027-05-01', '2027-05-10', 323]);
  });
});
