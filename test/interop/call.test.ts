/**
 * Interop of the call router with sipp 3.6.1: extension 102 registers (digest,
 * MD5) and answers with a UAS scenario on the port it registered; extension 101
 * calls 102 with a UAC scenario (407 → [authentication], `-auth_uri` because sipp
 * digests `sip:remote_ip:port` by default, not the Request-URI). Three outcomes,
 * each checked on both sipp and on the CDR: answered (180, 200, ACK, a second of
 * talk, BYE), cancelled by the caller while 102 rings (200 to the CANCEL, the
 * callee's leg CANCELled, 487), and busy (102 answers 486, relayed to 101).
 * Skipped only when sipp is absent; every wait is bounded, nothing is timed.
 */
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { newId } from '../../src/kernel/ids.ts';
import type { Endpoint } from '../../src/sip/index.ts';
import { cdrs } from '../../src/telephony/cdr-schema.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { SipServer } from '../../src/telephony/sip-server.ts';
import { SCENARIOS, addInteropUser, freePort, has, sipp, startInteropServer } from './helpers.ts';

const HAS_SIPP = has('sipp');
const HOST = '127.0.0.1';
const PASSWORD = 'hT6vR3pW9qZ2mK8xN5cB';
const CLIENT = newId();

describe('interop: calls between two extensions through the B2BUA (sipp, UDP, MD5)', () => {
  let database: Database;
  let server: SipServer;
  let udp: Endpoint;
  const directory = new MemoryDirectory();
  const caller = newId();

  beforeAll(async () => {
    addInteropUser(directory, { userId: caller, clientId: CLIENT, username: '101', extension: '101', password: PASSWORD });
    addInteropUser(directory, { userId: newId(), clientId: CLIENT, username: '102', extension: '102', password: PASSWORD });
    ({ database, server, udp } = await startInteropServer(directory, 'interop-call-secret-interop-call-secret'));
  });

  afterAll(async () => {
    await server.close();
    await database.close();
  });

  /**
   * 102 registers from a fresh port and runs `calleeScenario` there; 101 calls it with
   * `callerScenario`. Resolves when both sipp have ended, with the CDR of the call; 102 is then
   * unregistered (`Contact: *`), or the next call would fork to this test's dead port too.
   */
  async function call(callerScenario: string, calleeScenario: string) {
    const [calleePort, calleeMedia, callerMedia] = [await freePort(), await freePort(), await freePort()];
    const common = ['-t', 'u1', '-i', HOST, '-m', '1'];
    const reg = await sipp([`${HOST}:${udp.port}`, '-sf', join(SCENARIOS, 'register.xml'), '-p', String(calleePort), '-s', '102', '-au', '102', '-ap', PASSWORD, ...common]);
    expect(reg.code, reg.output).toBe(0);
    const before = new Set((await database.db.select({ id: cdrs.id }).from(cdrs).where(eq(cdrs.clientId, CLIENT))).map((r) => r.id));
    const callee = sipp(['-sf', join(SCENARIOS, calleeScenario), '-p', String(calleePort), '-mp', String(calleeMedia), ...common]);
    const uac = await sipp([
      `${HOST}:${udp.port}`,
      ...['-sf', join(SCENARIOS, callerScenario), '-mp', String(callerMedia), '-s', '102', '-au', '101', '-ap', PASSWORD, '-auth_uri', `102@${HOST}:${udp.port}`],
      ...common,
    ]);
    const uas = await callee;
    const unreg = await sipp([`${HOST}:${udp.port}`, '-sf', join(SCENARIOS, 'unregister.xml'), '-s', '102', '-au', '102', '-ap', PASSWORD, ...common]);
    expect(unreg.code, unreg.output).toBe(0);
    await server.idle();
    const rows = (await database.db.select().from(cdrs).where(eq(cdrs.clientId, CLIENT))).filter((r) => !before.has(r.id));
    return { uac, uas, rows };
  }

  it.skipIf(!HAS_SIPP)('101 calls 102: 407 → auth, 180, 200, ACK, BYE both ways; the CDR is written', async () => {
    const { uac, uas, rows } = await call('uac-call.xml', 'uas-answer.xml');
    expect(uac.code, uac.output).toBe(0);
    expect(uas.code, uas.output).toBe(0);
    expect(rows).toHaveLength(1);
    const cdr = rows[0]!;
    expect(cdr).toMatchObject({ direction: 'internal', userId: caller, fromExtension: '101', dialled: '102', destination: '102', allowed: true, sipStatus: 200 });
    expect(cdr.answeredAt).not.toBeNull();
    expect(cdr.endedAt).not.toBeNull();
    expect(cdr.billableSeconds).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(!HAS_SIPP)('101 cancels while 102 rings: 200 to the CANCEL, 102 gets a CANCEL, 101 gets 487; the CDR says 487', async () => {
    const { uac, uas, rows } = await call('uac-cancel.xml', 'uas-ring.xml');
    expect(uac.code, uac.output).toBe(0);
    expect(uas.code, uas.output).toBe(0); // 102 received the CANCEL and the ACK of its 487
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ direction: 'internal', userId: caller, destination: '102', sipStatus: 487, hangupBy: 'caller', endReason: 'cancel', answeredAt: null, billableSeconds: 0 });
    expect(rows[0]!.endedAt).not.toBeNull();
  });

  it.skipIf(!HAS_SIPP)('102 is busy: its 486 reaches 101 (and is ACKed on both legs); the CDR says 486', async () => {
    const { uac, uas, rows } = await call('uac-busy.xml', 'uas-busy.xml');
    expect(uac.code, uac.output).toBe(0);
    expect(uas.code, uas.output).toBe(0); // 102 received the ACK of its 486
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ direction: 'internal', userId: caller, destination: '102', sipStatus: 486, hangupBy: 'callee', endReason: 'rejected', answeredAt: null, billableSeconds: 0 });
    expect(rows[0]!.endedAt).not.toBeNull();
  });
});
