/**
 * Interop of the carrier trunk, the emergency route and inbound calls with sipp 3.6.1,
 * on the platform as `npm start` wires it (provisioning directory, `dbCallPolicy`):
 * a phone (sipp UAC, digest MD5) calls a mobile number → a sipp UAS playing the carrier
 * (127.0.0.2) gets an E.164 Request-URI, From and P-Asserted-Identity with the user's
 * number; a spoofed From is replaced; `+3290…` → 403 naming §4.3b; in minimum service a
 * mobile number → 403 naming §8.7 while 112 reaches the emergency route (another sipp
 * UAS) and the carrier's calls are refused (403 §8.7); the carrier (trusted, no challenge) calls a DID → the registered phone rings;
 * a flood of INVITEs trips the attempts limit (§4.10) → security suspension (§9.2), 112 still goes through.
 * What each sipp received is read from its `-trace_msg` log. Skipped only when sipp is
 * absent; every wait is bounded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { freshMemoryDatabase } from '../../src/db/template.ts';
import { createLogger } from '../../src/logger.ts';
import { createProduct } from '../../src/modules/catalog/create-product.ts';
import { completeInstallation } from '../../src/modules/customers/complete-installation.ts';
import { createClient } from '../../src/modules/customers/create-client.ts';
import { createContract } from '../../src/modules/customers/create-contract.ts';
import { serviceStateOf, setServiceState } from '../../src/modules/customers/service-state.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import { signContract } from '../../src/modules/customers/sign-contract.ts';
import { assignNumber } from '../../src/modules/provisioning/assign-number.ts';
import { createUsers } from '../../src/modules/provisioning/create-users.ts';
import { importNumbers } from '../../src/modules/provisioning/import-numbers.ts';
import { cdrs } from '../../src/telephony/cdr-schema.ts';
import { SCENARIOS, freePort, has, run } from './helpers.ts';

const HAS_SIPP = has('sipp');
const HOST = '127.0.0.1';
const CARRIER = '127.0.0.2';

/** The first SIP request of `method` in a sipp -trace_msg log, as text. */
function received(log: string, method: string): string {
  const text = readFileSync(log, 'utf8');
  const at = text.search(new RegExp(`^${method} \\S+ SIP/2\\.0`, 'mu'));
  if (at < 0) throw new Error(`no ${method} in ${log}:\n${text}`);
  return text.slice(at, text.indexOf('\n\n', at) < 0 ? undefined : text.indexOf('\n\n', at));
}

describe('interop: trunk, emergency route and inbound calls (sipp, UDP, MD5)', () => {
  let database: Database;
  let platform: Platform;
  let sipPort = 0;
  let trunkPort = 0;
  let emergencyPort = 0;
  let clientId = '';
  const phone = { username: '', password: '' };
  const callee = { username: '', password: '' };
  const dir = mkdtempSync(join(tmpdir(), 'e2p-trunk-'));
  const common = ['-m', '1', '-nostdin', '-timeout', '20s', '-timeout_error'];

  beforeAll(async () => {
    if (!HAS_SIPP) return;
    [trunkPort, emergencyPort] = [await freePort(CARRIER), await freePort(CARRIER)];
    database = await freshMemoryDatabase();
    const config = loadConfig({
      E2P_SIP_HOST: HOST,
      E2P_SIP_UDP_PORT: '0',
      E2P_SIP_TCP_PORT: '0',
      E2P_SIP_DIGEST_ALGORITHMS: 'MD5',
      E2P_SIP_TRUNK: `sip:${CARRIER}:${trunkPort}`,
      E2P_SIP_EMERGENCY_ROUTE: `sip:${CARRIER}:${emergencyPort}`,
      E2P_LOG_LEVEL: 'silent',
    });
    platform = await createPlatform(config, { database, logger: createLogger('silent') });
    const { ctx } = platform;
    await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
    clientId = (await createClient(ctx, { principal: 'system', name: 'Interop SRL' })).id;
    const draft = await createContract(ctx, { actor: 'system', clientId, lines: [{ product: 'USER', quantity: 2 }] });
    await signContract(ctx, { actor: 'system', clientId, contractId: draft.id });
    await completeInstallation(ctx, { actor: 'system', clientId });
    const [u101, u102] = await createUsers(ctx, { actor: 'system', clientId, users: [{ extension: '101' }, { extension: '102' }] });
    Object.assign(phone, { username: u101!.credentials.username, password: u101!.credentials.password });
    Object.assign(callee, { username: u102!.credentials.username, password: u102!.credentials.password });
    await importNumbers(ctx, { actor: 'system', numbers: [{ number: '+3243210001', type: 'national' }, { number: '+3243210002', type: 'national' }] });
    await assignNumber(ctx, { actor: 'system', clientId, number: '+3243210001', userId: u101!.user.id });
    await assignNumber(ctx, { actor: 'system', clientId, number: '+3243210002', userId: u102!.user.id });
    sipPort = (await platform.listenSip()).udp.port;
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (!HAS_SIPP) return;
    await platform.close();
    await database.close();
  });

  /** The phone (101) calls `dial` with `scenario`; a sipp UAS on `uasPort` (CARRIER) answers when given. */
  async function phoneCalls(dial: string, scenario: string, o: { uasPort?: number; fromUser?: string; tag: string }) {
    const uasLog = join(dir, `${o.tag}-uas.log`);
    const uacLog = join(dir, `${o.tag}-uac.log`);
    const uas =
      o.uasPort === undefined
        ? undefined
        : run('sipp', ['-sf', join(SCENARIOS, 'uas-answer.xml'), '-t', 'u1', '-i', CARRIER, '-p', String(o.uasPort), '-mp', String(await freePort(CARRIER)), '-trace_msg', '-message_file', uasLog, ...common], {
            cwd: dir,
            limitMs: 40_000,
          });
    const uac = await run(
      'sipp',
      [
        `${HOST}:${sipPort}`,
        '-sf',
        join(SCENARIOS, scenario),
        '-t',
        'u1',
        '-i',
        HOST,
        '-mp',
        String(await freePort(HOST)),
        '-s',
        dial,
        '-key',
        'from_user',
        o.fromUser ?? phone.username,
        '-au',
        phone.username,
        '-ap',
        phone.password,
        '-auth_uri',
        `${dial}@${HOST}:${sipPort}`,
        '-trace_msg',
        '-message_file',
        uacLog,
        ...common,
      ],
      { cwd: dir, limitMs: 40_000 },
    );
    const answered = uas === undefined ? undefined : await uas;
    return { uac, answered, uasLog, uacLog };
  }

  const lastCdr = async () => (await database.db.select().from(cdrs).where(eq(cdrs.clientId, clientId))).sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()).at(-1)!;

  it.skipIf(!HAS_SIPP)('a phone calls a mobile number: the carrier gets the E.164 Request-URI and the user number in From and PAI', async () => {
    const { uac, answered, uasLog } = await phoneCalls('0475123456', 'uac-call-number.xml', { uasPort: trunkPort, tag: 'mobile' });
    expect(uac.code, uac.output).toBe(0);
    expect(answered!.code, answered!.output).toBe(0);
    const invite = received(uasLog, 'INVITE');
    expect(invite).toMatch(/^INVITE sip:\+32475123456@127\.0\.0\.2:\d+ SIP\/2\.0/u);
    expect(invite).toMatch(/^From: <sip:\+3243210001@127\.0\.0\.1;user=phone>;tag=/mu);
    expect(invite).toMatch(/^P-Asserted-Identity: <sip:\+3243210001@127\.0\.0\.1;user=phone>/mu);
    expect(invite).not.toContain(phone.username);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await lastCdr()).toMatchObject({ direction: 'outbound', destination: '+32475123456', callerId: '+3243210001', callerIdReplaced: false, sipStatus: 200, hangupBy: 'caller', endReason: 'bye' });
  });

  it.skipIf(!HAS_SIPP)('a spoofed From is replaced on the trunk side by the user number (§17.1), and recorded', async () => {
    const { uac, answered, uasLog } = await phoneCalls('0475123456', 'uac-call-number.xml', { uasPort: trunkPort, fromUser: '+3222222222', tag: 'spoof' });
    expect(uac.code, uac.output).toBe(0);
    expect(answered!.code, answered!.output).toBe(0);
    const invite = received(uasLog, 'INVITE');
    expect(invite).toMatch(/^From: <sip:\+3243210001@/mu);
    expect(invite).not.toContain('3222222222');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await lastCdr()).toMatchObject({ callerId: '+3243210001', callerIdReplaced: true });
  });

  it.skipIf(!HAS_SIPP)('a premium-rate number gets 403 naming §4.3b', async () => {
    const { uac, uacLog } = await phoneCalls('0903123456', 'uac-refused.xml', { tag: 'premium' });
    expect(uac.code, uac.output).toBe(0);
    expect(readFileSync(uacLog, 'utf8')).toMatch(/^Warning: 399 easy2phone "clause 4\.3b: /mu);
  });

  it.skipIf(!HAS_SIPP)('an inbound call from the carrier to a DID rings the registered phone', async () => {
    const phonePort = await freePort(HOST);
    const reg = await run(
      'sipp',
      [`${HOST}:${sipPort}`, '-sf', join(SCENARIOS, 'register.xml'), '-t', 'u1', '-i', HOST, '-p', String(phonePort), '-s', callee.username, '-au', callee.username, '-ap', callee.password, ...common],
      { cwd: dir, limitMs: 30_000 },
    );
    expect(reg.code, reg.output).toBe(0);
    const phoneLog = join(dir, 'inbound-phone.log');
    const ringing = run('sipp', ['-sf', join(SCENARIOS, 'uas-answer.xml'), '-t', 'u1', '-i', HOST, '-p', String(phonePort), '-mp', String(await freePort(HOST)), '-trace_msg', '-message_file', phoneLog, ...common], {
      cwd: dir,
      limitMs: 40_000,
    });
    const carrier = await run('sipp', [`${HOST}:${sipPort}`, '-sf', join(SCENARIOS, 'carrier-call.xml'), '-t', 'u1', '-i', CARRIER, '-mp', String(await freePort(CARRIER)), '-s', '+3243210002', ...common], {
      cwd: dir,
      limitMs: 40_000,
    });
    const answered = await ringing;
    expect(carrier.code, carrier.output).toBe(0);
    expect(answered.code, answered.output).toBe(0);
    expect(received(phoneLog, 'INVITE')).toMatch(/^From: <sip:\+32475123456@127\.0\.0\.1;user=phone>/mu);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await lastCdr()).toMatchObject({ direction: 'inbound', destination: '+3243210002', callerId: '+32475123456', sipStatus: 200, hangupBy: 'caller', endReason: 'bye' });
  });

  it.skipIf(!HAS_SIPP)('in minimum service a mobile number gets 403 naming §8.7 while 112 reaches the emergency route; inbound calls get 403 §8.7', async () => {
    await setServiceState(database.db, clientId, 'minimum_service');
    try {
      const refused = await phoneCalls('0475123456', 'uac-refused.xml', { tag: 'minimum' });
      expect(refused.uac.code, refused.uac.output).toBe(0);
      expect(readFileSync(refused.uacLog, 'utf8')).toMatch(/^Warning: 399 easy2phone "clause 8\.7: /mu);
      const emergency = await phoneCalls('112', 'uac-call-number.xml', { uasPort: emergencyPort, tag: 'emergency' });
      expect(emergency.uac.code, emergency.uac.output).toBe(0);
      expect(emergency.answered!.code, emergency.answered!.output).toBe(0);
      const invite = received(emergency.uasLog, 'INVITE');
      expect(invite).toMatch(/^INVITE sip:112@127\.0\.0\.2:\d+ SIP\/2\.0/u);
      expect(invite).toMatch(/^P-Asserted-Identity: <sip:\+3243210001@/mu);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await lastCdr()).toMatchObject({ direction: 'outbound', destination: '112', emergency: true, sipStatus: 200 });
      // §8.7: inbound calls are refused too.
      const carrierLog = join(dir, 'minimum-carrier.log');
      const inbound = await run(
        'sipp',
        [`${HOST}:${sipPort}`, '-sf', join(SCENARIOS, 'carrier-refused.xml'), '-t', 'u1', '-i', CARRIER, '-mp', String(await freePort(CARRIER)), '-s', '+3243210002', '-trace_msg', '-message_file', carrierLog, ...common],
        { cwd: dir, limitMs: 40_000 },
      );
      expect(inbound.code, inbound.output).toBe(0);
      expect(readFileSync(carrierLog, 'utf8')).toMatch(/^Warning: 399 easy2phone "clause 8\.7: /mu);
    } finally {
      await setServiceState(database.db, clientId, 'active');
    }
  });

  // Last: it leaves the client security-suspended.
  it.skipIf(!HAS_SIPP)('a flood of INVITEs trips the attempts limit (§4.10): security suspension (§9.2) and fraud_alert, while 112 still goes through', async () => {
    const floodLog = join(dir, 'flood-uac.log');
    // The phone's calls of the earlier tests (emergency calls aside) count in the same sliding minute.
    const since = Date.now() - 60_000;
    const before = (await database.db.select().from(cdrs).where(eq(cdrs.clientId, clientId))).filter((c) => c.direction === 'outbound' && !c.emergency && c.startedAt.getTime() > since).length;
    const flood = await run(
      'sipp',
      [
        `${HOST}:${sipPort}`,
        ...['-sf', join(SCENARIOS, 'uac-refused.xml'), '-t', 'u1', '-i', HOST, '-mp', String(await freePort(HOST)), '-s', '0903123456'],
        ...['-au', phone.username, '-ap', phone.password, '-auth_uri', `0903123456@${HOST}:${sipPort}`, '-trace_msg', '-message_file', floodLog],
        ...['-m', '21', '-r', '50', '-nostdin', '-timeout', '30s', '-timeout_error'],
      ],
      { cwd: dir, limitMs: 60_000 },
    );
    expect(flood.code, flood.output).toBe(0);
    // One clause per call: a 403 retransmitted (its ACK late under load) is logged again.
    const clauseByCall = new Map<string, string>();
    for (const message of readFileSync(floodLog, 'utf8').split(/^-{20,}.*$/mu)) {
      const clause = /^Warning: 399 easy2phone "clause ([\d.a-z]+): /mu.exec(message)?.[1];
      const callId = /^Call-ID: *(\S+)/imu.exec(message)?.[1];
      if (clause !== undefined && callId !== undefined) clauseByCall.set(callId, clause);
    }
    const warnings = [...clauseByCall.values()];
    expect(warnings).toHaveLength(21);
    expect(warnings.filter((c) => c === '4.3b')).toHaveLength(20 - before);
    expect(warnings.filter((c) => c === '9.2')).toHaveLength(1 + before);
    expect(await serviceStateOf(database.db, clientId)).toBe('security_suspended');
    expect(await listEvents(database.db, { clientId, type: 'fraud_alert' })).toHaveLength(1);
    const mobile = await phoneCalls('0475123456', 'uac-refused.xml', { tag: 'suspended-mobile' });
    expect(mobile.uac.code, mobile.uac.output).toBe(0);
    expect(readFileSync(mobile.uacLog, 'utf8')).toMatch(/^Warning: 399 easy2phone "clause 9\.2: /mu);
    const emergency = await phoneCalls('112', 'uac-call-number.xml', { uasPort: emergencyPort, tag: 'suspended-emergency' });
    expect(emergency.uac.code, emergency.uac.output).toBe(0);
    expect(emergency.answered!.code, emergency.answered!.output).toBe(0);
  });
});
