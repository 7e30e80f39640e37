/**
 * Outbound calls through the carrier trunk and the emergency route (issue #4): E.164
 * Request-URI, the policy's caller ID in From + P-Asserted-Identity (RFC 3325), privacy
 * (RFC 3323), §8.7 emergency route, status mapping, CDR lifecycle and policy hooks.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import {
  DOMAIN,
  EMERGENCY,
  PHONE,
  type Rig,
  SDP,
  TRUNK,
  answer,
  call,
  cdrOf,
  invite,
  fromCaller,
  requestsTo,
  responses,
  rig,
} from '../../test/support/sip-call-rig.ts';
import { Registry } from 'prom-client';
import { FakeTransport } from '../../test/support/transport-fake.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/client.ts';
import { createLogger } from '../logger.ts';
import { type Transport, ThreadedUdpTransport, getHeader } from '../sip/index.ts';
import { type CallAttempt, type CallDecision, type CallPolicy, permissiveCallPolicy } from './policy.ts';
import { POLICY_DECISION_METRIC, UDP_DROPPED_METRIC, startSipServer } from './sip-server.ts';

const TRUNK_ENV = { E2P_SIP_TRUNK: `sip:${TRUNK.address}:${TRUNK.port}` };

/** A policy that records what it was asked and what the router told it. */
function recordingPolicy(decision: (c: CallAttempt) => CallDecision): CallPolicy & { asked: CallAttempt[]; hooks: string[] } {
  const asked: CallAttempt[] = [];
  const hooks: string[] = [];
  return {
    ...permissiveCallPolicy(),
    asked,
    hooks,
    decide(c) {
      asked.push(c);
      return Promise.resolve(decision(c));
    },
    answered(admission) {
      hooks.push(`answered ${admission}`);
      return Promise.resolve();
    },
    ended(admission) {
      hooks.push(`ended ${admission}`);
      return Promise.resolve();
    },
  };
}

describeEachDb('outbound calls: carrier trunk and emergency route', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let r: Rig;
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  afterAll(async () => drop());
  afterEach(async () => {
    await r.server.close();
  });

  it('answers 503 for an external number when no trunk is configured, and records the attempt', async () => {
    r = rig(database);
    const { callId } = await call(r, '0475123456');
    expect(responses(r).at(-1)!.status).toBe(503);
    expect(await cdrOf(database, callId)).toMatchObject([
      { direction: 'outbound', destination: '+32475123456', allowed: true, sipStatus: 503, hangupBy: 'system', endReason: 'unavailable' },
    ]);
  });

  it('sends the call to the trunk in E.164 with the policy caller ID in From and PAI; 183/200 relayed; BYE from the carrier ends it', async () => {
    const policy = recordingPolicy(() => ({ allowed: true, callerId: '+3243210001', emergency: false, admission: 'adm-1' }));
    r = rig(database, { env: TRUNK_ENV, policy });
    const { callId } = await call(r, '0475 12 34 56'.replace(/ /gu, ''));
    expect(policy.asked.at(-1)).toMatchObject({ dialled: '0475123456', normalised: '+32475123456', presentedCallerId: null, privacy: false });
    const [out, ...more] = requestsTo(r, TRUNK, 'INVITE');
    expect(more).toEqual([]);
    expect(out!.callId).not.toBe(callId);
    expect(getHeader(out!, 'Content-Type')).toBe('application/sdp');
    expect(Buffer.from(out!.body).toString()).toBe(SDP);
    expect(/^INVITE (\S+)/u.exec(Buffer.from(r.udp.sent.find((s) => s.message === out)!.data).toString())![1]).toBe('sip:+32475123456@198.51.100.10:5060');
    expect(getHeader(out!, 'From')).toMatch(/^<sip:\+3243210001@sip\.example\.be;user=phone>;tag=/u);
    expect(getHeader(out!, 'P-Asserted-Identity')).toBe('<sip:+3243210001@sip.example.be;user=phone>');
    expect(getHeader(out!, 'Privacy')).toBeUndefined();
    answer(r, out!, 183, TRUNK, 'carrier');
    const early = responses(r).at(-1)!;
    expect(early.status).toBe(183);
    expect(Buffer.from(early.body).toString()).toBe(SDP);
    r.clock.advance(500);
    answer(r, out!, 200, TRUNK, 'carrier');
    const ok = responses(r).at(-1)!;
    expect(ok.status).toBe(200);
    await r.server.idle();
    expect(policy.hooks).toEqual(['answered adm-1']);
    expect(await cdrOf(database, callId)).toMatchObject([{ endedAt: null, sipStatus: 200 }]);
    r.udp.deliver(fromCaller('ACK', callId, ok.to.params.get('tag')!, 2), PHONE);
    expect(requestsTo(r, TRUNK, 'ACK')).toHaveLength(1);
    r.clock.advance(61_200);
    r.udp.deliver(
      [
        `BYE sip:b2bua@192.0.2.1:5060 SIP/2.0`,
        'Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK-tbye-1',
        'Max-Forwards: 70',
        `From: <sip:+32475123456@198.51.100.10>;tag=carrier`,
        `To: ${getHeader(out!, 'From')!}`,
        `Call-ID: ${out!.callId}`,
        'CSeq: 1 BYE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      TRUNK,
    );
    await r.server.idle();
    expect(requestsTo(r, PHONE, 'BYE')).toHaveLength(1);
    expect(policy.hooks).toEqual(['answered adm-1', 'ended adm-1']);
    expect(await cdrOf(database, callId)).toMatchObject([
      {
        direction: 'outbound',
        dialled: '0475123456',
        destination: '+32475123456',
        callerId: '+3243210001',
        callerIdReplaced: false,
        emergency: false,
        sipStatus: 200,
        billableSeconds: 62,
        hangupBy: 'callee',
        endReason: 'bye',
        admission: 'adm-1',
        sipNode: 'test-node',
      },
    ]);
  });

  it('replaces a spoofed caller ID on the trunk side and records callerIdReplaced (§17.1)', async () => {
    const policy = recordingPolicy((c) => ({ allowed: true, callerId: '+3243210001', emergency: false, callerIdReplaced: c.presentedCallerId !== '+3243210001' }));
    r = rig(database, { env: TRUNK_ENV, policy });
    const { callId } = await call(r, '+32475123456', { from: `<sip:+3222222222@${DOMAIN}>` });
    expect(policy.asked.at(-1)!.presentedCallerId).toBe('+3222222222');
    const [out] = requestsTo(r, TRUNK, 'INVITE');
    expect(getHeader(out!, 'From')).toMatch(/^<sip:\+3243210001@/u);
    expect(getHeader(out!, 'P-Asserted-Identity')).toContain('+3243210001');
    expect(JSON.stringify(out!.headers)).not.toContain('3222222222');
    answer(r, out!, 486, TRUNK, 'carrier');
    await r.server.idle();
    expect(responses(r).at(-1)!.status).toBe(486);
    expect(await cdrOf(database, callId)).toMatchObject([{ callerId: '+3243210001', callerIdReplaced: true, sipStatus: 486, hangupBy: 'callee', endReason: 'rejected' }]);
  });

  it('keeps privacy: anonymous From and Privacy: id, the true identity only in P-Asserted-Identity (RFC 3323/3325)', async () => {
    // The policy withholds the caller ID (privacy) and gives the true identity (§17.1).
    r = rig(database, { env: TRUNK_ENV, policy: recordingPolicy(() => ({ allowed: true, callerId: null, emergency: false, assertedIdentity: '+3243210001' })) });
    const { callId } = await call(r, '0475123456', { extra: ['Privacy: id'] });
    const [out] = requestsTo(r, TRUNK, 'INVITE');
    expect(getHeader(out!, 'From')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/u);
    expect(getHeader(out!, 'Privacy')).toBe('id');
    expect(getHeader(out!, 'P-Asserted-Identity')).toBe('<sip:+3243210001@sip.example.be;user=phone>');
    answer(r, out!, 503, TRUNK, 'carrier');
    await r.server.idle();
    expect(responses(r).at(-1)!.status).toBe(480); // 5xx from the carrier → 480, as for phones
    expect(await cdrOf(database, callId)).toMatchObject([{ callerId: null, sipStatus: 480 }]);
  });

  it("uses the policy's assertedIdentity for P-Asserted-Identity (§17.1, RFC 3325), without an extension lookup", async () => {
    const policy = recordingPolicy(() => ({ allowed: true, callerId: null, emergency: false, assertedIdentity: '+3243219999' }));
    r = rig(database, { env: TRUNK_ENV, policy });
    const looked: string[] = [];
    // A ten-digit number cannot be an extension (2 to 6 digits): not looked up either.
    const byExtension = r.directory.findUserByExtension.bind(r.directory);
    r.directory.findUserByExtension = (clientId, extension) => {
      looked.push(extension);
      return byExtension(clientId, extension);
    };
    await call(r, '0475123456', { extra: ['Privacy: id'] });
    const [out] = requestsTo(r, TRUNK, 'INVITE');
    expect(getHeader(out!, 'From')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/u);
    expect(getHeader(out!, 'P-Asserted-Identity')).toBe('<sip:+3243219999@sip.example.be;user=phone>');
    expect(looked).toEqual([]);
    // A policy that says the caller has no number at all: no PAI.
    await r.server.close();
    r = rig(database, { env: TRUNK_ENV, policy: recordingPolicy(() => ({ allowed: true, callerId: null, emergency: false, assertedIdentity: null })) });
    await call(r, '0475123456', { extra: ['Privacy: id'] });
    const [second] = requestsTo(r, TRUNK, 'INVITE');
    expect(getHeader(second!, 'P-Asserted-Identity')).toBeUndefined();
    expect(getHeader(second!, 'Privacy')).toBe('id');
  });

  it('sends emergency calls to the emergency route with the callback number, privacy or not (§8.7)', async () => {
    const policy = recordingPolicy(() => ({ allowed: true, callerId: null, emergency: true, admission: 'adm-112', assertedIdentity: '+3243210001' }));
    r = rig(database, { env: { ...TRUNK_ENV, E2P_SIP_EMERGENCY_ROUTE: `sip:${EMERGENCY.address}` }, policy });
    const { callId } = await call(r, '112', { extra: ['Privacy: id'] });
    expect(requestsTo(r, TRUNK, 'INVITE')).toEqual([]);
    const [out] = requestsTo(r, EMERGENCY, 'INVITE');
    expect(/^INVITE (\S+)/u.exec(Buffer.from(r.udp.sent.find((s) => s.message === out)!.data).toString())![1]).toBe('sip:112@198.51.100.112:5060');
    expect(getHeader(out!, 'From')).toMatch(/^<sip:\+3243210001@/u);
    expect(getHeader(out!, 'P-Asserted-Identity')).toContain('+3243210001');
    expect(getHeader(out!, 'Privacy')).toBeUndefined();
    answer(r, out!, 180, EMERGENCY, 'psap');
    // The caller hangs up while it rings: CANCEL → 487, the admission is released once.
    r.udp.deliver(
      [`CANCEL sip:112@${DOMAIN} SIP/2.0`, `Via: SIP/2.0/UDP 10.0.0.5:5062;branch=${/branch=([^;\r\n]+)/u.exec(responses(r).at(-1)!.headers.find((h) => h.name === 'Via')!.value)![1]!};rport`, 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`, `To: <sip:112@${DOMAIN}>`, `Call-ID: ${callId}`, 'CSeq: 2 CANCEL', 'Content-Length: 0', '', ''].join('\r\n'),
      PHONE,
    );
    await r.server.idle();
    expect(responses(r).map((m) => `${m.status} ${m.cseq.method}`)).toEqual(expect.arrayContaining(['200 CANCEL', '487 INVITE']));
    expect(requestsTo(r, EMERGENCY, 'CANCEL')).toHaveLength(1);
    expect(policy.hooks).toEqual(['ended adm-112']);
    expect(await cdrOf(database, callId)).toMatchObject([{ emergency: true, destination: '112', callerId: '+3243210001', sipStatus: 487, hangupBy: 'caller', endReason: 'cancel' }]);
  });

  it('sends emergency calls to the trunk when no emergency route is set', async () => {
    r = rig(database, { env: TRUNK_ENV });
    await call(r, '112');
    const [out] = requestsTo(r, TRUNK, 'INVITE');
    expect(out!.uri).toMatchObject({ user: '112', host: TRUNK.address });
  });

  it('answers 503 + Retry-After at once past the limit of calls in setup, never to an emergency call (§8.7)', async () => {
    const policy = recordingPolicy((c) => ({ allowed: true, callerId: '+3243210001', emergency: c.normalised === '112' }));
    r = rig(database, { env: TRUNK_ENV, policy });
    r.server.router.maxSetups = 0;
    r.udp.deliver(invite('0475123456', 'overloaded', 1), PHONE);
    await r.server.idle();
    const busy = responses(r).at(-1)!;
    expect(busy.status).toBe(503);
    expect(getHeader(busy, 'Retry-After')).toBe('1');
    expect(policy.asked).toEqual([]);
    expect(requestsTo(r, TRUNK, 'INVITE')).toEqual([]);
    await call(r, '112');
    expect(policy.asked.map((c) => c.dialled)).toEqual(['112']);
    expect(requestsTo(r, TRUNK, 'INVITE')).toHaveLength(1);
    // A finished setup frees its place: with room for one, calls one after the other all go through.
    r.server.router.maxSetups = 1;
    await call(r, '0475123456');
    await call(r, '0475123457');
    expect(requestsTo(r, TRUNK, 'INVITE')).toHaveLength(3);
  });

  it("times the policy's decisions into the platform's metrics when started by startSipServer (issue #7)", async () => {
    const metrics = new Registry();
    // A real UDP listener: the trunk leg goes out on it, to a local port nobody answers.
    const config = loadConfig({ E2P_SIP_TRUNK: 'sip:127.0.0.1:9', E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_DIGEST_ALGORITHMS: 'MD5', E2P_SIP_HOST: '127.0.0.1', E2P_SIP_UDP_PORT: '0', E2P_SIP_TCP_PORT: '0' });
    r = rig(database, { env: TRUNK_ENV });
    const policy = recordingPolicy(() => ({ allowed: true, callerId: '+3243210001', emergency: false }));
    const started = await startSipServer({ config, db: database.db, clock: r.clock, log: createLogger('silent'), metrics }, { directory: r.directory, policy });
    try {
      const udp = new FakeTransport({ protocol: 'UDP', delegate: started.server.delegate, local: { address: '192.0.2.1', port: 5060 } });
      await call({ ...r, server: started.server, udp }, '0475123456');
      expect(policy.asked).toHaveLength(1);
      const values = (await metrics.getSingleMetric(POLICY_DECISION_METRIC)!.get()).values as { value: number; labels: Record<string, unknown>; metricName?: string }[];
      expect(values.find((v) => v.metricName === `${POLICY_DECISION_METRIC}_count` && v.labels.kind === 'outbound')?.value).toBe(1);
    } finally {
      await started.server.close();
    }
  });

  it("counts the datagrams the UDP socket's thread dropped in the platform's metrics, monotonic across a close (issue #4)", async () => {
    const metrics = new Registry();
    const config = loadConfig({ E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_HOST: '127.0.0.1', E2P_SIP_UDP_PORT: '0', E2P_SIP_TCP_PORT: '0' });
    r = rig(database, { env: TRUNK_ENV });
    const started = await startSipServer({ config, db: database.db, clock: r.clock, log: createLogger('silent'), metrics }, { directory: r.directory });
    const scrape = async (): Promise<number | undefined> => (await metrics.getSingleMetric(UDP_DROPPED_METRIC)!.get()).values[0]?.value;
    try {
      expect(await scrape()).toBe(0);
      // The drops themselves: transport.test.ts (a busy SIP thread past `backlogBytes`); here what the server reports.
      const udp = (started.server as unknown as { transports: Transport[] }).transports.find((t) => t instanceof ThreadedUdpTransport);
      expect(udp).toBeDefined();
      (udp as unknown as { dropped: number }).dropped = 3;
      expect(started.server.droppedDatagrams).toBe(3);
      expect(await scrape()).toBe(3);
    } finally {
      await started.server.close();
    }
    expect(await scrape()).toBe(3);
  });

  it('refuses with the policy status and a Warning naming the clause, without reaching the trunk', async () => {
    const policy = recordingPolicy(() => ({ allowed: false, sipStatus: 403, clause: '4.3b', reason: 'Premium-rate numbers are barred' }));
    r = rig(database, { env: TRUNK_ENV, policy });
    const { callId } = await call(r, '0903123456');
    const last = responses(r).at(-1)!;
    expect(last.status).toBe(403);
    expect(getHeader(last, 'Warning')).toBe('399 easy2phone "clause 4.3b: Premium-rate numbers are barred"');
    expect(requestsTo(r, TRUNK, 'INVITE')).toEqual([]);
    expect(await cdrOf(database, callId)).toMatchObject([{ allowed: false, clause: '4.3b', sipStatus: 403, hangupBy: 'system', endReason: 'refused' }]);
    expect((await cdrOf(database, callId))[0]!.endedAt).not.toBeNull();
  });
});
