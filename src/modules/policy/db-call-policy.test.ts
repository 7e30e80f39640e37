import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase, useMigratedDatabase } from '../../../test/support/db.ts';
import { explainAnalyzed } from '../../../test/support/plan.ts';
import { testContext } from '../../../test/support/context.ts';
import { openChangeFeed, type ChangeFeed } from '../../db/changes.ts';
import type { Database } from '../../db/client.ts';
import { SimulatedClock } from '../../kernel/clock.ts';
import { newId } from '../../kernel/ids.ts';
import { outboundAttempt as attempt } from '../../../test/support/call-attempt.ts';
import { auditLog } from '../audit/schema.ts';
import { createTariffZone } from '../catalog/create-tariff-zone.ts';
import { clients } from '../customers/schema.ts';
import { serviceStateOf } from '../customers/service-state.ts';
import { listEvents } from '../events/index.ts';
import { memoryAdmissionStore } from './admission-store.ts';
import { admissionFactsSql, dbCallPolicy, sweepLiveSpend, type DbCallPolicy } from './db-call-policy.ts';
import { fastCallPolicy } from './fast-call-policy.ts';
import { redisAdmissionStore } from './redis-admission-store.ts';
import { phoneNumbers } from '../provisioning/schema.ts';
import { policyClientSettings, policyDecisions, securityAlerts } from './schema.ts';
import { DEFAULT_HIGH_RISK_PREFIXES, setPlatformHighRiskPrefixes } from './settings.ts';
import { liftSecuritySuspension } from './security-suspension.ts';

/**
 * Every mode of the call policy passes the same tests: the database gate (dbCallPolicy),
 * the fast policy with the in-memory admission store (one node) and, when TEST_REDIS_URL
 * names a Redis server, with the Redis store (several nodes; keys under a prefix of each test).
 */
const MODES = ['database', 'memory', ...(process.env.TEST_REDIS_URL ? (['redis'] as const) : [])] as const;
type Mode = (typeof MODES)[number];

type TestPolicy = DbCallPolicy & { flush(): Promise<void>; sweep(at: Date): Promise<string[]> };

for (const mode of MODES as readonly Mode[])
describeEachDb(`call policy live limits (§4.3b/§4.10) [${mode}]`, (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let changes: ChangeFeed;
  const closing: (() => Promise<void>)[] = [];
  const clock = new SimulatedClock('2027-03-01T09:00:00Z');

  /** `redisPrefix`: the Redis keys (the same for a node restarted on the same Redis); fresh by default. */
  function makePolicy(redisPrefix = `e2p-test-policy:${randomBytes(6).toString('hex')}:`): TestPolicy {
    if (mode === 'database') {
      return { ...dbCallPolicy({ db: database.db, clock }), flush: () => Promise.resolve(), sweep: (at) => sweepLiveSpend(database.db, at) };
    }
    const store =
      mode === 'memory'
        ? memoryAdmissionStore()
        : redisAdmissionStore({ url: process.env.TEST_REDIS_URL!, nodeId: 'test', prefix: redisPrefix });
    const policy = fastCallPolicy({ db: database.db, clock, store, changes });
    closing.push(() => policy.close(), () => store.close());
    return { ...policy, sweep: (at) => policy.sweepLiveSpend(at) };
  }

  /**
   * A write straight to a table (as another module or node would do it), then the notice the
   * table's trigger sends: on PostgreSQL it comes over the LISTEN connection a moment after
   * the commit, so the test waits for it instead of sleeping.
   */
  async function afterNotice(key: string, write: () => Promise<unknown>): Promise<void> {
    let unsubscribe = (): void => undefined;
    const heard = new Promise<void>((resolve) => {
      unsubscribe = changes.on('client', (k) => {
        if (k === key || k === null) resolve();
      });
    });
    try {
      await write();
      await heard;
    } finally {
      unsubscribe();
    }
  }

  beforeAll(async () => {
    const t = await migratedTestDatabase(kind);
    database = t.database;
    drop = t.drop;
    changes = await openChangeFeed(database);
    const ctx = { ...testContext(database), clock };
    await createTariffZone(ctx, { actor: 'system', zone: 'BE', prefixes: ['+32'], perMinuteMicros: 25_000, effective: '2027-01-01' });
    // 3 €/min: 1000 s = 50 € exactly
    await createTariffZone(ctx, { actor: 'system', zone: 'XX', prefixes: ['+99'], perMinuteMicros: 3_000_000, effective: '2027-01-01' });
    // 60 µ€/min: a 1 s call costs 1 µ€
    await createTariffZone(ctx, { actor: 'system', zone: 'YY', prefixes: ['+98'], perMinuteMicros: 60, effective: '2027-01-01' });
  });
  afterAll(async () => {
    for (const close of closing) await close();
    await changes.close();
    await drop();
  });

  const tick = (ms: number): void => clock.set(new Date(clock.now().getTime() + ms));

  async function seedClient(): Promise<string> {
    const id = newId(clock.now());
    await database.db.insert(clients).values({ id, name: `Policy ${id.slice(-6)}`, createdAt: clock.now() });
    return id;
  }

  it('admits max(4, 2 × users) live outbound calls, refuses the next (403 §4.3b), frees a slot on ended', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const admitted: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = await policy.decide(attempt(c));
      expect(d).toMatchObject({ allowed: true });
      admitted.push(d.admission!);
    }
    expect(await policy.decide(attempt(c))).toMatchObject({ allowed: false, sipStatus: 403, clause: '4.3b' });
    expect(await policy.decide(attempt(c, '112'))).toMatchObject({ allowed: true, emergency: true });
    await policy.answered(admitted[0]!, clock.now());
    await policy.ended(admitted[0]!, clock.now());
    expect(await policy.decide(attempt(c))).toMatchObject({ allowed: true });
    expect(await serviceStateOf(database.db, c)).toBe('active');
  });

  it('no stale facts: a change of numbers, settings, high-risk list or service state is seen by the next decide once the change notice (a trigger: no writer can forget it) arrived', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const user = newId(clock.now());
    const spoof = { ...attempt(c, '+3243000000', user), presentedCallerId: '+3221112233' };
    const end = async (d: { admission?: string }): Promise<void> => policy.ended(d.admission!, clock.now());
    // §17.1 numbers: assigned after a first decision, accepted by the next one
    const first = await policy.decide(spoof);
    expect(first).toMatchObject({ allowed: true, callerIdReplaced: true });
    await end(first);
    await afterNotice(c, () =>
      database.db
        .insert(phoneNumbers)
        .values({ number: '+3221112233', type: 'national', state: 'assigned', clientId: c, userId: user, assignedAt: clock.now(), importedAt: clock.now() }),
    );
    const second = await policy.decide(spoof);
    expect(second).toMatchObject({ allowed: true, callerId: '+3221112233', callerIdReplaced: false });
    await end(second);
    // §4.3b settings: international calls disabled
    await end(await policy.decide(attempt(c, '+33187654321', user)));
    await afterNotice(c, () => database.db.insert(policyClientSettings).values({ clientId: c, internationalCalls: false, updatedAt: clock.now() }));
    expect(await policy.decide(attempt(c, '+33187654321', user))).toMatchObject({ allowed: false, clause: '4.3b' });
    await afterNotice(c, () => database.db.update(policyClientSettings).set({ internationalCalls: null }).where(eq(policyClientSettings.clientId, c)));
    // §4.3b platform high-risk list
    await end(await policy.decide(attempt(c, '+37212345678', user)));
    await afterNotice('*', () => setPlatformHighRiskPrefixes(database.db, ['+372'], clock.now()));
    try {
      expect(await policy.decide(attempt(c, '+37212345678', user))).toMatchObject({ allowed: false, clause: '4.3b' });
    } finally {
      await afterNotice('*', () => setPlatformHighRiskPrefixes(database.db, DEFAULT_HIGH_RISK_PREFIXES, clock.now()));
    }
    // §8.7 service state set by another node or by dunning
    await afterNotice(c, () => database.db.update(clients).set({ serviceState: 'minimum_service' }).where(eq(clients.id, c)));
    expect(await policy.decide(attempt(c, '+3243000000', user))).toMatchObject({ allowed: false, clause: '8.7' });
    await afterNotice(c, () => database.db.update(clients).set({ serviceState: 'active' }).where(eq(clients.id, c)));
    expect(await policy.decide(attempt(c, '+3243000000', user))).toMatchObject({ allowed: true });
  });

  it('answered/ended are idempotent: the first report wins; a bad handle is ignored', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const d = await policy.decide(attempt(c));
    const t0 = clock.now();
    await policy.answered(d.admission!, t0);
    await policy.answered(d.admission!, new Date(t0.getTime() + 5000));
    await policy.ended(d.admission!, new Date(t0.getTime() + 10_000));
    await policy.ended(d.admission!, new Date(t0.getTime() + 20_000));
    await policy.answered(d.admission!, new Date(t0.getTime() + 30_000));
    await policy.ended('not-a-uuid', t0);
    await policy.flush();
    const [row] = await database.db.select().from(policyDecisions).where(eq(policyDecisions.id, d.admission!));
    expect(row).toMatchObject({ answeredAt: t0, endedAt: new Date(t0.getTime() + 10_000) });
  });

  it('admissions older than 4 h count as ended', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    for (let i = 0; i < 4; i++) await policy.decide(attempt(c));
    expect(await policy.decide(attempt(c))).toMatchObject({ allowed: false, clause: '4.3b' });
    tick(4 * 3_600_000 + 1000);
    expect(await policy.decide(attempt(c))).toMatchObject({ allowed: true });
  });

  it('many simultaneous decides on one client never admit more than the limit', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const decisions = await Promise.all(Array.from({ length: 24 }, () => policy.decide(attempt(c))));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(4);
    expect(decisions.filter((d) => !d.allowed && d.clause === '4.3b')).toHaveLength(20);
  });

  it('attempts: 20 per user per sliding minute; the 21st suspends (§9.2) with fraud_alert, alert, notice, audit; 112 still goes', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const user = newId(clock.now());
    const end = async (d: { admission?: string }): Promise<void> => policy.ended(d.admission!, clock.now());
    // 20 attempts, the first one 61 s before the 21st: it has left the window
    await end(await policy.decide(attempt(c, '+3243000000', user)));
    tick(61_000);
    for (let i = 0; i < 19; i++) await end(await policy.decide(attempt(c, '+3243000000', user)));
    expect(await policy.decide(attempt(c, '+3243000000', user))).toMatchObject({ allowed: true }); // 20 in the window
    expect(await serviceStateOf(database.db, c)).toBe('active');
    const tripped = await policy.decide(attempt(c, '+3243000000', user));
    expect(tripped).toMatchObject({ allowed: false, sipStatus: 403, clause: '9.2', trip: { limit: 'call_attempts', observed: 21, max: 20 } });
    expect(await serviceStateOf(database.db, c)).toBe('security_suspended');
    const events = await listEvents(database.db, { clientId: c });
    expect(events.map((e) => [e.type, e.clause])).toEqual([
      ['fraud_alert', '9.2'],
      ['security_suspension', '9.2'],
      ['notice', '9.2'],
    ]);
    expect(events[0]!.details).toMatchObject({ limit: 'call_attempts', limitClause: '4.3b', decisionId: tripped.decisionId });
    const alerts = await database.db.select().from(securityAlerts).where(eq(securityAlerts.clientId, c));
    expect(alerts).toMatchObject([{ severity: 'critical', kind: 'call_attempts', status: 'open', clause: '4.3b' }]);
    const audit = await database.db.select().from(auditLog).where(and(eq(auditLog.clientId, c), eq(auditLog.action, 'client.security_suspend')));
    expect(audit).toMatchObject([{ clause: '9.2', actorKind: 'system' }]);
    expect(await policy.decide(attempt(c, '112', user))).toMatchObject({ allowed: true, emergency: true });
    expect(await policy.decide(attempt(c))).toMatchObject({ allowed: false, clause: '9.2' });

    // staff lift it: active again, counters restart (the flood does not trip it again)
    await liftSecuritySuspension(database.db, { clientId: c, actor: 'system', reason: 'customer confirmed the campaign', at: clock.now() });
    expect(await serviceStateOf(database.db, c)).toBe('active');
    expect(await policy.decide(attempt(c, '+3243000000', user))).toMatchObject({ allowed: true });
    expect((await listEvents(database.db, { clientId: c, type: 'security_suspension_lifted' }))[0]).toMatchObject({ clause: '9.2' });
    await expect(liftSecuritySuspension(database.db, { clientId: c, actor: 'system', reason: 'again', at: clock.now() })).rejects.toMatchObject({
      code: 'NOT_SECURITY_SUSPENDED',
    });
  });

  it('attempts 59 s old still count, 61 s old do not', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    await database.db.insert(policyClientSettings).values({ clientId: c, attemptsPerUserPerMinute: 1, updatedAt: clock.now() });
    const user = newId(clock.now());
    await policy.ended((await policy.decide(attempt(c, '+3243000000', user))).admission!, clock.now());
    tick(61_000);
    expect(await policy.decide(attempt(c, '+3243000000', user))).toMatchObject({ allowed: true });
    tick(59_000);
    expect(await policy.decide(attempt(c, '+3243000000', user))).toMatchObject({ allowed: false, trip: { limit: 'call_attempts' } });
  });

  it('spend: 50 € in the hour is allowed, 1 µ€ more suspends when the call ends (§4.10)', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const d = await policy.decide(attempt(c, '+99123456789'));
    expect(d).toMatchObject({ allowed: true });
    const t0 = clock.now();
    await policy.answered(d.admission!, t0);
    tick(1000 * 1000);
    await policy.ended(d.admission!, clock.now()); // 1000 s × 3 €/min = 50 € exactly
    expect(await serviceStateOf(database.db, c)).toBe('active');
    // a 1 s call at 60 µ€/min: 1 µ€ more
    const e = await policy.decide(attempt(c, '+98123456789'));
    await policy.answered(e.admission!, clock.now());
    tick(1000);
    await policy.ended(e.admission!, clock.now());
    expect(await serviceStateOf(database.db, c)).toBe('security_suspended');
    expect((await listEvents(database.db, { clientId: c, type: 'fraud_alert' }))[0]!.details).toMatchObject({ limit: 'spend', limitClause: '4.10', observed: 50_000_001, max: 50_000_000 });
  });

  it('spend of live calls is counted at decide time', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const d = await policy.decide(attempt(c, '+99123456789'));
    await policy.answered(d.admission!, clock.now());
    tick(1001 * 1000); // live, 1001 s at 3 €/min = 50.05 €
    expect(await policy.decide(attempt(c, '+3243000000'))).toMatchObject({ allowed: false, clause: '9.2', trip: { limit: 'spend' } });
    expect(await serviceStateOf(database.db, c)).toBe('security_suspended');
  });

  it('the live-spend sweep suspends a client whose call in progress crosses the hourly limit', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const d = await policy.decide(attempt(c, '+99123456789'));
    await policy.answered(d.admission!, clock.now());
    tick(1000 * 1000);
    expect(await policy.sweep(clock.now())).not.toContain(c); // exactly 50 €
    tick(1000);
    expect(await policy.sweep(clock.now())).toContain(c); // 50.05 €
    expect(await serviceStateOf(database.db, c)).toBe('security_suspended');
    expect(await policy.sweep(clock.now())).not.toContain(c); // once
    expect(await listEvents(database.db, { clientId: c, type: 'fraud_alert' })).toHaveLength(1);
  });

  it('a node that restarts keeps counting the recorded attempts of the minute and spend of the hour (§4.3b/§4.10)', async () => {
    const redis = `e2p-test-policy:${randomBytes(6).toString('hex')}:`;
    const before = makePolicy(redis);
    const c = await seedClient();
    const user = newId(clock.now());
    await before.ended((await before.decide(attempt(c, '+3243000000', user))).admission!, clock.now()); // attempt 1 (ended: no slot held)
    const d = await before.decide(attempt(c, '+99123456789', user)); // attempt 2
    await before.answered(d.admission!, clock.now());
    tick(1000 * 1000);
    await before.ended(d.admission!, clock.now()); // 50 € exactly
    await before.flush();
    await database.db.insert(policyClientSettings).values({ clientId: c, attemptsPerUserPerMinute: 2, updatedAt: clock.now() });
    tick(1000);
    // a new process: nothing in memory, only what the database recorded
    const after = makePolicy(redis);
    const e = await after.decide(attempt(c, '+98123456789'));
    expect(e).toMatchObject({ allowed: true });
    await after.answered(e.admission!, clock.now());
    tick(1000);
    await after.ended(e.admission!, clock.now()); // 50 € + 1 µ€ in the hour
    expect(await serviceStateOf(database.db, c)).toBe('security_suspended');
    const c2 = await seedClient();
    await database.db.insert(policyClientSettings).values({ clientId: c2, attemptsPerUserPerMinute: 2, updatedAt: clock.now() });
    const first = makePolicy(redis);
    for (let i = 0; i < 2; i++) await first.ended((await first.decide(attempt(c2, '+3243000000', user))).admission!, clock.now());
    await first.flush();
    tick(30_000);
    expect(await makePolicy(redis).decide(attempt(c2, '+3243000000', user))).toMatchObject({ allowed: false, trip: { limit: 'call_attempts', observed: 3 } });
  });

  it('§17.1 among a client\'s many numbers: the presented one if the client holds it, else the user\'s earliest, else the main one; the record says which, not the whole list', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const [u1, u2, u3] = [newId(clock.now()), newId(clock.now()), newId(clock.now())];
    const t0 = clock.now().getTime();
    const at = (s: number): Date => new Date(t0 - 86_400_000 + s * 1000);
    const row = (number: string, o: { userId?: string; isMain?: boolean; assignedAt: Date }) =>
      ({ number, type: 'national' as const, state: 'assigned' as const, clientId: c, userId: o.userId ?? null, isMain: o.isMain ?? false, assignedAt: o.assignedAt, importedAt: o.assignedAt });
    // 300 numbers of nobody in particular, assigned first (the earliest: the main one if none were designated)
    const others = Array.from({ length: 300 }, (_, i) => row(`+3220${String(i).padStart(6, '0')}`, { assignedAt: at(0) }));
    const write = () =>
      database.db.insert(phoneNumbers).values([
        ...others,
        row('+3229999999', { userId: u1, assignedAt: at(1) }), // u1's earliest (not its lowest)
        row('+3221000000', { userId: u1, assignedAt: at(2) }),
        row('+3225555555', { userId: u2, assignedAt: at(3) }),
        row('+3228888888', { isMain: true, assignedAt: at(4) }), // designated: wins over the earlier ones
      ]);
    await afterNotice(c, write);
    const decide = async (userId: string, presentedCallerId: string | null) => {
      const d = await policy.decide({ ...attempt(c, '+3243000000', userId), presentedCallerId });
      await policy.ended(d.admission!, clock.now());
      await policy.flush();
      const [r] = await database.db.select().from(policyDecisions).where(eq(policyDecisions.id, d.decisionId));
      return { d, facts: r!.facts };
    };
    const another = await decide(u1, '+3225555555'); // another user's number: still the client's
    expect(another.d).toMatchObject({ allowed: true, callerId: '+3225555555', callerIdReplaced: false });
    expect(another.facts).toMatchObject({ presentedCallerId: '+3225555555', presentedCallerIdAssigned: true, userNumber: '+3229999999', mainNumber: '+3228888888' });
    expect(another.facts).not.toHaveProperty('clientNumbers');
    const foreign = await decide(u1, '+3243123456');
    expect(foreign.d).toMatchObject({ allowed: true, callerId: '+3229999999', callerIdReplaced: true });
    expect(foreign.facts).toMatchObject({ presentedCallerIdAssigned: false });
    const none = await decide(u3, null); // no number of its own, none presented: the main one
    expect(none.d).toMatchObject({ allowed: true, callerId: '+3228888888', callerIdReplaced: false });
    expect(none.facts).toMatchObject({ presentedCallerIdAssigned: null, userNumber: null, mainNumber: '+3228888888' });
    // without a designated main number: the earliest assigned, ties by the lowest
    await afterNotice(c, () => database.db.update(phoneNumbers).set({ isMain: false }).where(eq(phoneNumbers.number, '+3228888888')));
    expect((await decide(u3, null)).d).toMatchObject({ callerId: '+3220000000' });
    expect(JSON.stringify(another.facts).length).toBeLessThan(2000);
  });

  it('records every decision with its facts and clause', async () => {
    const policy = makePolicy();
    const c = await seedClient();
    const d = await policy.decide(attempt(c, '+3290123456'));
    expect(d).toMatchObject({ allowed: false, clause: '4.3b' });
    await policy.flush();
    const [row] = await database.db.select().from(policyDecisions).where(eq(policyDecisions.id, d.decisionId));
    expect(row).toMatchObject({ clientId: c, allowed: false, sipStatus: 403, clause: '4.3b', destinationClass: 'premium' });
    expect(row!.facts).toMatchObject({ serviceState: 'active', destination: '+3290123456', limits: { liveOutboundCalls: 0, maxConcurrentCalls: 4 } });
  });
});

describeEachDb('the database mode reads a client\'s numbers by index (§17.1, issue #4)', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  it('one decision reads at most a few of 2 000 numbers: the presented one, the user\'s earliest, the main one', async () => {
    const at = new Date('2027-03-01T09:00:00Z');
    const clientId = newId(at);
    await database.db.insert(clients).values({ id: clientId, name: 'Many DIDs', createdAt: at });
    const users = Array.from({ length: 2000 }, () => newId(at));
    await database.db.insert(phoneNumbers).values(
      users.map((userId, i) => ({ number: `+3220${String(i).padStart(6, '0')}`, type: 'national' as const, state: 'assigned' as const, clientId, userId, assignedAt: at, importedAt: at })),
    );
    const q = { clientId, userId: users[1234]!, at, extension: null, callerId: '+3220000042' };
    const nodes = await explainAnalyzed(database, admissionFactsSql(q));
    const reads = nodes.filter((n) => n['Relation Name'] === 'phone_numbers' || n['Index Name']?.startsWith('phone_numbers') === true);
    expect(reads.length).toBeGreaterThan(0);
    for (const n of reads) expect(n['Actual Rows'] * n['Actual Loops'], `${n['Node Type']} ${n['Index Name'] ?? ''}`).toBeLessThanOrEqual(3);
  });
});
