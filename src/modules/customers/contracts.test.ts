/** Contracts over a real database (PGlite; PostgreSQL with TEST_DATABASE_URL): §2.2, §11, §13. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../../test/support/db.ts';
import { testContext } from '../../../test/support/context.ts';
import type { Database } from '../../db/client.ts';
import { AppError } from '../../kernel/errors.ts';
import { startOfLocalDay } from '../../kernel/time.ts';
import { createProduct } from '../catalog/create-product.ts';
import { listEvents } from '../events/index.ts';
import { completeInstallation } from './complete-installation.ts';
import { contractLineQuantities, contractStatusOf } from './contract-status.ts';
import { runContractTerms } from './contract-terms-job.ts';
import { createClient } from './create-client.ts';
import { createContract } from './create-contract.ts';
import { onClientTerminated } from './hooks.ts';
import { noticeNonRenewal } from './notice-non-renewal.ts';
import { serviceStateOf } from './service-state.ts';
import { signContract } from './sign-contract.ts';
import { terminateContract } from './terminate-contract.ts';

async function refusal(p: Promise<unknown>): Promise<{ code: string; clause: string | null }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, clause: e.clause };
    throw e;
  }
  throw new Error('expected a refusal');
}

describeEachDb('contracts', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let ctx: ReturnType<typeof testContext>;
  const at = (s: string): void => ctx.clock.set(new Date(s));
  const terminated: { clientId: string; at: Date }[] = [];
  const hook = async (_tx: unknown, clientId: string, when: Date): Promise<void> => {
    terminated.push({ clientId, at: when });
  };

  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
    ctx = testContext(database, '2027-03-01T08:00:00+01:00');
    onClientTerminated.push(hook);
    await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
    await createProduct(ctx, { actor: 'system', code: 'PACK', kind: 'pack', priceCents: 900, packMinutes: 500, packZones: ['BE'] });
  });
  afterAll(async () => {
    onClientTerminated.splice(onClientTerminated.indexOf(hook), 1);
    await drop();
  });

  let n = 0;
  async function signedClient(name: string): Promise<string> {
    n += 1;
    const client = await createClient(ctx, { principal: 'system', name: `${name} ${n}` });
    const draft = await createContract(ctx, {
      actor: 'system',
      clientId: client.id,
      lines: [
        { product: 'USER', quantity: 3 },
        { product: 'PACK', quantity: 2, priceCents: 800 },
      ],
      enable: ['international'],
    });
    expect((await contractStatusOf(ctx.db, client.id)).state).toBe('draft');
    await signContract(ctx, { actor: 'system', clientId: client.id, contractId: draft.id });
    return client.id;
  }

  let early: string;
  let late: string;
  let renewing: string;

  it('installation on an unsigned contract is refused (2.2); signed → active, leap-year term end', async () => {
    const none = await createClient(ctx, { principal: 'system', name: 'No contract' });
    expect(await refusal(completeInstallation(ctx, { actor: 'system', clientId: none.id }))).toEqual({ code: 'CONTRACT_NOT_SIGNED', clause: '2.2' });
    expect(await contractStatusOf(ctx.db, none.id)).toMatchObject({ state: 'none', contractId: null });

    early = await signedClient('Early');
    late = await signedClient('Late');
    renewing = await signedClient('Renewing');
    const status = await contractStatusOf(ctx.db, early);
    expect(status).toMatchObject({ state: 'signed', serviceStartDate: null, enabled: ['international'] });
    expect(status.signedAt?.toISOString()).toBe('2027-03-01T07:00:00.000Z');

    at('2027-03-01T10:00:00+01:00');
    for (const id of [early, late, renewing]) {
      const c = await completeInstallation(ctx, { actor: 'system', clientId: id });
      expect(c).toMatchObject({ state: 'active', serviceStartDate: '2027-03-01', minimumTermEnd: '2032-02-29', endDate: null });
    }
    // During the minimum term, "with notice" does not apply (non-renewal or early termination instead).
    expect(await refusal(terminateContract(ctx, { actor: 'system', clientId: renewing, by: 'client', ground: 'notice' }))).toMatchObject({ clause: '11.4' });
    expect(await contractLineQuantities(ctx.db, early)).toEqual([
      { productCode: 'USER', kind: 'recurring', unit: 'user', quantity: 3, priceCents: null },
      { productCode: 'PACK', kind: 'pack', unit: 'fixed', quantity: 2, priceCents: 800 },
    ]);
  });

  it('non-renewal: accepted on the deadline day (2031-12-01), refused the day after (11.4)', async () => {
    at('2031-12-01T23:59:59+01:00');
    const c = await noticeNonRenewal(ctx, { actor: 'system', clientId: early });
    expect(c).toMatchObject({ state: 'terminating', endDate: '2032-02-29', terminationClause: '11.4' });
    at('2031-12-02T00:00:00+01:00');
    expect(await refusal(noticeNonRenewal(ctx, { actor: 'system', clientId: late }))).toEqual({ code: 'NOTICE_TOO_LATE', clause: '11.4' });
    const notices = await listEvents(ctx.db, { clientId: early, type: 'notice' });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ clause: '11.4', details: { kind: 'non_renewal', endDate: '2032-02-29' } });
  });

  it('tacit renewal by the job at 00:00 on the day after the term end; the non-renewed contract ends then', async () => {
    at('2032-02-29T00:00:00+01:00');
    await runContractTerms(ctx, startOfLocalDay('2032-02-29'));
    expect((await contractStatusOf(ctx.db, late)).state).toBe('active');
    expect((await contractStatusOf(ctx.db, early)).state).toBe('terminating');

    at('2032-03-01T00:00:00+01:00');
    await runContractTerms(ctx, startOfLocalDay('2032-03-01'));
    expect((await contractStatusOf(ctx.db, late)).state).toBe('indefinite');
    const renewal = await listEvents(ctx.db, { clientId: late, type: 'renewal' });
    expect(renewal).toMatchObject([{ clause: '11.4', at: new Date('2032-03-01T00:00:00+01:00') }]);

    expect(await contractStatusOf(ctx.db, early)).toMatchObject({ state: 'terminated', endDate: '2032-02-29' });
    expect(await serviceStateOf(ctx.db, early)).toBe('terminated');
    const termination = await listEvents(ctx.db, { clientId: early, type: 'termination' });
    expect(termination).toMatchObject([{ clause: '11.4', at: new Date('2032-03-01T00:00:00+01:00') }]);
    expect(terminated).toContainEqual({ clientId: early, at: new Date('2032-03-01T00:00:00+01:00') });

    // Idempotent: running again renews / terminates nothing twice.
    await runContractTerms(ctx, startOfLocalDay('2032-03-01'));
    expect(await listEvents(ctx.db, { clientId: late, type: 'renewal' })).toHaveLength(1);
    // A non-renewal after the renewal is too late.
    expect(await refusal(noticeNonRenewal(ctx, { actor: 'system', clientId: late }))).toEqual({ code: 'NOTICE_TOO_LATE', clause: '11.4' });
  });

  it('termination with notice of an indefinite contract: endDate = notice + 3 months, stops at 00:00 after it', async () => {
    at('2032-03-10T11:00:00+01:00');
    await runContractTerms(ctx, startOfLocalDay('2032-03-10'));
    const c = await terminateContract(ctx, { actor: 'system', clientId: late, by: 'client', ground: 'notice' });
    expect(c).toMatchObject({ state: 'terminating', endDate: '2032-06-10', terminationClause: '11.4' });
    at('2032-06-10T00:00:00+02:00');
    await runContractTerms(ctx, startOfLocalDay('2032-06-10'));
    expect((await contractStatusOf(ctx.db, late)).state).toBe('terminating');
    expect(await serviceStateOf(ctx.db, late)).toBe('active');
    at('2032-06-11T00:00:00+02:00');
    await runContractTerms(ctx, startOfLocalDay('2032-06-11'));
    expect(await contractStatusOf(ctx.db, late)).toMatchObject({ state: 'terminated', endDate: '2032-06-10' });
    expect(await listEvents(ctx.db, { clientId: late, type: 'termination' })).toMatchObject([
      { clause: '11.4', at: new Date('2032-06-11T00:00:00+02:00'), details: { ground: 'notice', endDate: '2032-06-10' } },
    ]);
  });

  it('immediate termination stops service at the instant recorded; a terminated client is refused (13.1)', async () => {
    at('2032-06-15T14:20:00+02:00');
    const c = await terminateContract(ctx, { actor: 'system', clientId: renewing, by: 'operator', ground: '12.2a' });
    expect(c).toMatchObject({ state: 'terminated', endDate: '2032-06-15', terminationClause: '12.2a' });
    expect(await listEvents(ctx.db, { clientId: renewing, type: 'termination' })).toMatchObject([
      { clause: '12.2a', at: new Date('2032-06-15T14:20:00+02:00') },
    ]);
    expect(terminated).toContainEqual({ clientId: renewing, at: new Date('2032-06-15T14:20:00+02:00') });
    expect(await refusal(terminateContract(ctx, { actor: 'system', clientId: renewing, by: 'client', ground: 'early' }))).toEqual({
      code: 'CLIENT_TERMINATED',
      clause: '13.1',
    });
    expect(await refusal(createContract(ctx, { actor: 'system', clientId: renewing, lines: [] }))).toEqual({ code: 'CLIENT_TERMINATED', clause: '13.1' });
    expect(await contractLineQuantities(ctx.db, renewing)).toHaveLength(2);
  });
});
