/**
 * Call policy API (§4.3b, §4.4, §4.10, §9.2): per-client settings, decisions and their
 * facts, simulation, security alerts, lifting a security suspension, SIP blocks — with
 * the tenancy refusals (another tenant's ids answer 404) and problem+json field errors.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/kernel/ids.ts';
import { auditLog } from '../../src/modules/audit/schema.ts';
import { serviceStateOf } from '../../src/modules/customers/service-state.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import { dbCallPolicy } from '../../src/modules/policy/db-call-policy.ts';
import { sipBlocks } from '../../src/telephony/brute-force-schema.ts';
import { outboundAttempt as attempt } from '../support/call-attempt.ts';
import { describeEachDb } from '../support/db.ts';
import { call, json, loginAs, seedAccount, seedClient, startHarness, type Harness } from './harness.ts';

describeEachDb('call policy API', (kind) => {
  let h: Harness;
  let clientA: string;
  let clientB: string;
  let staff: string;
  let noc: string;
  let billing: string;
  let adminA: string;
  let userA: string;
  let adminB: string;

  beforeAll(async () => {
    h = await startHarness(kind);
    clientA = await seedClient(h, 'A');
    clientB = await seedClient(h, 'B');
    staff = await loginAs(h, await seedAccount(h, 'admin'));
    noc = await loginAs(h, await seedAccount(h, 'noc'));
    billing = await loginAs(h, await seedAccount(h, 'billing'));
    adminA = await loginAs(h, await seedAccount(h, 'client_admin', clientA));
    userA = await loginAs(h, await seedAccount(h, 'client_user', clientA));
    adminB = await loginAs(h, await seedAccount(h, 'client_admin', clientB));
  });
  afterAll(async () => {
    await h.close();
  });

  const policy = () => dbCallPolicy({ db: h.platform.ctx.db, clock: h.clock });

  it('settings: defaults of RULES.md; staff change them (audited, null resets); the client admin reads its own only', async () => {
    const read = await call(h, 'GET', `/api/v1/clients/${clientA}/policy/settings`, { cookie: adminA });
    expect(read.statusCode, read.body).toBe(200);
    expect(json(read)).toMatchObject({
      effective: { maxConcurrentCalls: 4, attemptsPerUserPerMinute: 20, spendLimitCentsPerHour: 5000, internationalCalls: true, enabled: [], highRiskPrefixes: ['+881', '+882', '+883'] },
      overrides: { maxConcurrentCalls: null },
    });
    const patch = await call(h, 'PATCH', `/api/v1/clients/${clientA}/policy/settings`, {
      cookie: noc,
      body: { maxConcurrentCalls: 2, internationalCalls: false, enabled: ['premium'], highRiskPrefixes: ['+881'] },
    });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(json(patch)).toMatchObject({ effective: { maxConcurrentCalls: 2, internationalCalls: false, enabled: ['premium'], highRiskPrefixes: ['+881'] } });
    const reset = await call(h, 'PATCH', `/api/v1/clients/${clientA}/policy/settings`, { cookie: staff, body: { maxConcurrentCalls: null } });
    expect(json(reset)).toMatchObject({ effective: { maxConcurrentCalls: 4, internationalCalls: false }, overrides: { maxConcurrentCalls: null } });
    const audit = await h.platform.ctx.db.select().from(auditLog).where(and(eq(auditLog.clientId, clientA), eq(auditLog.action, 'policy.settings.update')));
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ clause: '4.3b', after: { maxConcurrentCalls: 2 } });

    // tenancy and roles
    expect((await call(h, 'GET', `/api/v1/clients/${clientA}/policy/settings`, { cookie: adminB })).statusCode).toBe(404);
    expect((await call(h, 'GET', `/api/v1/clients/${clientA}/policy/settings`, { cookie: userA })).statusCode).toBe(403);
    expect((await call(h, 'PATCH', `/api/v1/clients/${clientA}/policy/settings`, { cookie: adminA, body: { maxConcurrentCalls: 99 } })).statusCode).toBe(403);
    expect((await call(h, 'PATCH', `/api/v1/clients/${clientA}/policy/settings`, { cookie: billing, body: { maxConcurrentCalls: 99 } })).statusCode).toBe(403);
    expect((await call(h, 'GET', `/api/v1/clients/${newId(h.clock.now())}/policy/settings`, { cookie: staff })).statusCode).toBe(404);
  });

  it('the platform high-risk list: staff read, admin/noc replace it (audited); a client cannot', async () => {
    expect(json(await call(h, 'GET', '/api/v1/policy/settings', { cookie: billing }))).toEqual({ highRiskPrefixes: ['+881', '+882', '+883'] });
    expect((await call(h, 'PATCH', '/api/v1/policy/settings', { cookie: billing, body: { highRiskPrefixes: [] } })).statusCode).toBe(403);
    expect((await call(h, 'GET', '/api/v1/policy/settings', { cookie: adminA })).statusCode).toBe(403);
    expect(json(await call(h, 'PATCH', '/api/v1/policy/settings', { cookie: noc, body: { highRiskPrefixes: ['+88x'] } }))).toMatchObject({ status: 400, field: '/highRiskPrefixes/0' });
    const put = await call(h, 'PATCH', '/api/v1/policy/settings', { cookie: noc, body: { highRiskPrefixes: ['+881', '+882', '+883', '+979'] } });
    expect(put.statusCode, put.body).toBe(200);
    const c = await seedClient(h, 'Risky');
    expect(await dbCallPolicy({ db: h.platform.ctx.db, clock: h.clock }).decide(attempt(c, '+979123456789'))).toMatchObject({ allowed: false, clause: '4.3b' });
    const audit = await h.platform.ctx.db.select().from(auditLog).where(eq(auditLog.action, 'policy.high_risk.update'));
    expect(audit).toMatchObject([{ clause: '4.3b', after: { highRiskPrefixes: ['+881', '+882', '+883', '+979'] } }]);
    await call(h, 'PATCH', '/api/v1/policy/settings', { cookie: staff, body: { highRiskPrefixes: ['+881', '+882', '+883'] } });
  });

  it('settings: problem+json names the failing field', async () => {
    const bad = await call(h, 'PATCH', `/api/v1/clients/${clientA}/policy/settings`, { cookie: staff, body: { highRiskPrefixes: ['881'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(json(bad)).toMatchObject({ code: 'VALIDATION_FAILED', field: '/highRiskPrefixes/0' });
    const neg = await call(h, 'PATCH', `/api/v1/clients/${clientA}/policy/settings`, { cookie: staff, body: { attemptsPerUserPerMinute: -1 } });
    expect(json(neg)).toMatchObject({ status: 400, field: '/attemptsPerUserPerMinute' });
    const opt = await call(h, 'PATCH', `/api/v1/clients/${clientA}/policy/settings`, { cookie: staff, body: { enabled: ['gold'] } });
    expect(json(opt)).toMatchObject({ status: 400, field: '/enabled/0' });
  });

  it('decisions: staff and the own client see the facts and clause; another tenant gets 404 (audited access.denied)', async () => {
    const d = await policy().decide(attempt(clientB, '+3290123456'));
    expect(d).toMatchObject({ allowed: false, clause: '4.3b' });
    const seen = await call(h, 'GET', `/api/v1/policy/decisions/${d.decisionId}`, { cookie: staff });
    expect(seen.statusCode, seen.body).toBe(200);
    expect(json(seen)).toMatchObject({ clientId: clientB, allowed: false, sipStatus: 403, clause: '4.3b', destinationClass: 'premium', facts: { destination: '+3290123456', serviceState: 'active' } });
    expect((await call(h, 'GET', `/api/v1/policy/decisions/${d.decisionId}`, { cookie: adminB })).statusCode).toBe(200);
    const other = await call(h, 'GET', `/api/v1/policy/decisions/${d.decisionId}`, { cookie: adminA });
    expect(other.statusCode).toBe(404);
    expect(json(other)).toMatchObject({ code: 'NOT_FOUND' });
    const denied = await h.platform.ctx.db.select().from(auditLog).where(and(eq(auditLog.action, 'access.denied'), eq(auditLog.entityId, d.decisionId)));
    expect(denied).toHaveLength(1);
    expect((await call(h, 'GET', `/api/v1/policy/decisions/${newId(h.clock.now())}`, { cookie: staff })).statusCode).toBe(404);
    expect(json(await call(h, 'GET', '/api/v1/policy/decisions/nope', { cookie: staff }))).toMatchObject({ status: 400, field: 'params:/id' });
  });

  it('simulate: facts in, decision out, nothing recorded; staff only', async () => {
    const body = {
      serviceState: 'active',
      destination: '+33187654321',
      limits: { liveOutboundCalls: 0, maxConcurrentCalls: 4, userAttemptsLastMinute: 20, maxAttemptsPerUserPerMinute: 20, spendMicrosLastHour: 0, maxSpendMicrosPerHour: 50_000_000 },
    };
    const res = await call(h, 'POST', '/api/v1/policy/simulate', { cookie: noc, body });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ destinationClass: 'international', decision: { allowed: false, clause: '9.2', trip: { limit: 'call_attempts' } } });
    const ok = await call(h, 'POST', '/api/v1/policy/simulate', { cookie: staff, body: { serviceState: 'security_suspended', destination: '112', clientNumbers: ['+3243210001'], mainNumber: '+3243210001' } });
    expect(json(ok)).toMatchObject({ destinationClass: 'emergency', decision: { allowed: true, emergency: true, callerId: '+3243210001' } });
    expect((await call(h, 'POST', '/api/v1/policy/simulate', { cookie: adminA, body })).statusCode).toBe(403);
    expect(json(await call(h, 'POST', '/api/v1/policy/simulate', { cookie: staff, body: { destination: '+33187654321' } }))).toMatchObject({ status: 400, field: '/serviceState' });
  });

  it('a tripped limit opens a critical alert staff acknowledge; staff lift the suspension with a reason (audited)', async () => {
    const c = await seedClient(h, 'Flood');
    const user = newId(h.clock.now());
    for (let i = 0; i < 20; i++) {
      const d = await policy().decide(attempt(c, '+3243000000', user));
      await policy().ended(d.admission!, h.clock.now());
    }
    expect(await policy().decide(attempt(c, '+3243000000', user))).toMatchObject({ allowed: false, clause: '9.2' });
    expect(await serviceStateOf(h.platform.ctx.db, c)).toBe('security_suspended');
    expect(await policy().decide(attempt(c, '112', user))).toMatchObject({ allowed: true, emergency: true });

    const alerts = await call(h, 'GET', `/api/v1/security-alerts?status=open&clientId=${c}`, { cookie: noc });
    expect(alerts.statusCode, alerts.body).toBe(200);
    const items = json<{ items: { id: string; severity: string; kind: string }[] }>(alerts).items;
    expect(items).toMatchObject([{ severity: 'critical', kind: 'call_attempts' }]);
    expect((await call(h, 'GET', '/api/v1/security-alerts', { cookie: adminA })).statusCode).toBe(403);
    const ack = await call(h, 'POST', `/api/v1/security-alerts/${items[0]!.id}/acknowledge`, { cookie: noc, body: { note: 'calling the client' } });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(json(ack)).toMatchObject({ status: 'acknowledged', note: 'calling the client' });
    expect((await call(h, 'POST', `/api/v1/security-alerts/${items[0]!.id}/acknowledge`, { cookie: noc })).statusCode).toBe(409);

    expect(json(await call(h, 'POST', `/api/v1/clients/${c}/security-suspension/lift`, { cookie: staff, body: {} }))).toMatchObject({ status: 400, field: '/reason' });
    expect((await call(h, 'POST', `/api/v1/clients/${c}/security-suspension/lift`, { cookie: adminA, body: { reason: 'x' } })).statusCode).toBe(403);
    const lift = await call(h, 'POST', `/api/v1/clients/${c}/security-suspension/lift`, { cookie: staff, body: { reason: 'campaign confirmed by phone' } });
    expect(lift.statusCode, lift.body).toBe(200);
    expect(await serviceStateOf(h.platform.ctx.db, c)).toBe('active');
    expect((await listEvents(h.platform.ctx.db, { clientId: c, type: 'security_suspension_lifted' }))[0]).toMatchObject({
      clause: '9.2',
      details: { reason: 'campaign confirmed by phone' },
    });
    const again = await call(h, 'POST', `/api/v1/clients/${c}/security-suspension/lift`, { cookie: staff, body: { reason: 'again' } });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toMatchObject({ code: 'NOT_SECURITY_SUSPENDED', clause: '9.2' });
  });

  it('SIP blocks: staff list and lift them (audited); clients cannot', async () => {
    const now = h.clock.now();
    const id = newId(now);
    await h.platform.ctx.db.insert(sipBlocks).values({ id, kind: 'source', key: '198.51.100.7', clientId: clientA, reason: 'wrong password', blockedAt: now, until: new Date(now.getTime() + 15 * 60_000) });
    const list = await call(h, 'GET', '/api/v1/sip-blocks', { cookie: noc });
    expect(list.statusCode, list.body).toBe(200);
    expect(json<{ items: { id: string }[] }>(list).items.map((b) => b.id)).toContain(id);
    expect((await call(h, 'GET', '/api/v1/sip-blocks', { cookie: adminA })).statusCode).toBe(403);
    expect((await call(h, 'POST', `/api/v1/sip-blocks/${id}/lift`, { cookie: adminA })).statusCode).toBe(403);
    const lift = await call(h, 'POST', `/api/v1/sip-blocks/${id}/lift`, { cookie: noc, body: { reason: 'office NAT' } });
    expect(lift.statusCode, lift.body).toBe(200);
    expect(json(lift)).toMatchObject({ id, liftedBy: expect.stringContaining('@') as unknown });
    expect((await call(h, 'POST', `/api/v1/sip-blocks/${id}/lift`, { cookie: noc })).statusCode).toBe(404);
    expect(json<{ items: { id: string }[] }>(await call(h, 'GET', '/api/v1/sip-blocks', { cookie: noc })).items.map((b) => b.id)).not.toContain(id);
    expect(json<{ items: { id: string }[] }>(await call(h, 'GET', '/api/v1/sip-blocks?all=true', { cookie: noc })).items.map((b) => b.id)).toContain(id);
    const audit = await h.platform.ctx.db.select().from(auditLog).where(and(eq(auditLog.action, 'sip_block.lift'), eq(auditLog.entityId, id)));
    expect(audit).toMatchObject([{ clause: '4.4', after: { reason: 'office NAT' } }]);
  });
});
