import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordAudit } from '../../src/modules/audit/record-audit.ts';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, startHarness, type Harness } from './harness.ts';

interface Page {
  items: { id: number; action: string; entity: string; clientId: string | null; at: string; clause: string | null; actorId: string | null }[];
  nextCursor: number | null;
}

describeEachDb('audit log', (kind) => {
  let h: Harness;
  let cookie: string;
  let adminId: string;
  beforeAll(async () => {
    h = await startHarness(kind);
    const admin = await seedAccount(h, 'admin');
    adminId = admin.id;
    cookie = await loginAs(h, admin);
  });
  afterAll(async () => h.close());

  it('records client changes with before and after, and filters by entity, client, actor, action and time', async () => {
    const t0 = h.clock.now();
    const created = json<{ id: string }>(await call(h, 'POST', '/api/v1/clients', { cookie, body: { name: 'Boulangerie Dupont', enterpriseNumber: 'BE0455.218.921' } }));
    h.clock.advance(60_000);
    const patched = await call(h, 'PATCH', `/api/v1/clients/${created.id}`, { cookie, body: { name: 'Boulangerie Dupont SRL', language: 'nl' } });
    expect(json(patched)).toMatchObject({ name: 'Boulangerie Dupont SRL', language: 'nl', enterpriseNumber: '0455218921' });
    const page = json<{ items: { action: string; before: Record<string, unknown> | null; after: Record<string, unknown> }[] }>(
      await call(h, 'GET', `/api/v1/audit?entity=client&clientId=${created.id}&actorId=${adminId}`, { cookie }),
    );
    expect(page.items.map((i) => i.action)).toEqual(['client.update', 'client.create']);
    expect(page.items[0]).toMatchObject({ before: { name: 'Boulangerie Dupont', language: 'fr' }, after: { name: 'Boulangerie Dupont SRL', language: 'nl' } });
    const later = json<Page>(await call(h, 'GET', `/api/v1/audit?clientId=${created.id}&from=${new Date(t0.getTime() + 30_000).toISOString()}`, { cookie }));
    expect(later.items.map((i) => i.action)).toEqual(['client.update']);
    const earlier = json<Page>(await call(h, 'GET', `/api/v1/audit?clientId=${created.id}&to=${new Date(t0.getTime() + 30_000).toISOString()}`, { cookie }));
    expect(earlier.items.map((i) => i.action)).toEqual(['client.create']);
    // Duplicate enterprise number: 409, nothing audited.
    const dup = await call(h, 'POST', '/api/v1/clients', { cookie, body: { name: 'Other', enterpriseNumber: '0455218921' } });
    expect(json(dup)).toMatchObject({ status: 409, code: 'ENTERPRISE_NUMBER_TAKEN' });
    const bad = await call(h, 'POST', '/api/v1/clients', { cookie, body: { name: 'Other', enterpriseNumber: 'BE0455.218.922' } });
    expect(json(bad)).toMatchObject({ status: 400, code: 'INVALID_ENTERPRISE_NUMBER', field: '/enterpriseNumber' });
  });

  it('pages newest first by id (keyset), limit ≤ 200, and filters by clause', async () => {
    await h.platform.ctx.db.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) {
        await recordAudit(tx, {
          at: h.clock.now(),
          actor: 'system',
          action: 'test.page',
          entity: 'thing',
          entityId: String(i),
          clientId: null,
          before: null,
          after: { i, password: 'never-stored' },
          clause: i % 2 === 0 ? '9.2' : null,
        });
      }
    });
    const seen: string[] = [];
    let cursor: number | null = null;
    do {
      const url: string = `/api/v1/audit?action=test.page&limit=2${cursor ? `&before=${cursor}` : ''}`;
      const page: Page & { items: { entityId?: string; after: unknown }[] } = json(await call(h, 'GET', url, { cookie }));
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) {
        seen.push((item as { entityId: string }).entityId);
        expect(item.after).not.toHaveProperty('password');
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(['4', '3', '2', '1', '0']);
    const byClause = json<Page>(await call(h, 'GET', '/api/v1/audit?action=test.page&clause=9.2', { cookie }));
    expect(byClause.items).toHaveLength(3);
    expect(json(await call(h, 'GET', '/api/v1/audit?limit=201', { cookie }))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('a transaction that fails leaves no audit entry', async () => {
    await expect(
      h.platform.ctx.db.transaction(async (tx) => {
        await recordAudit(tx, { at: h.clock.now(), actor: 'system', action: 'test.rollback', entity: 'thing', entityId: null, clientId: null, before: null, after: null });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(json<Page>(await call(h, 'GET', '/api/v1/audit?action=test.rollback', { cookie })).items).toHaveLength(0);
  });
});
