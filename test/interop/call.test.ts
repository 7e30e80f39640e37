/**
 * Interop of the call router with sipp 3.6.1: extension 102 registers (digest,
 * MD5) and answers with a UAS scenario on the port it registered; extension 101
 * calls 102 with a UAC scenario (407 → [authentication], ACK, a second of
 * talk, BYE; `-auth_uri` because sipp digests `sip:remote_ip:port` by default,
 * not the Request-URI). Both sipp must succeed and the CDR of the call must be written.
 * Skipped only when sipp is absent; every wait is bounded, nothing is timed.
 */
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { newId } from '../../src/kernel/ids.ts';
import { type Endpoint, ha1 } from '../../src/sip/index.ts';
import { cdrs } from '../../src/telephony/cdr-schema.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { SipServer } from '../../src/telephony/sip-server.ts';
import { SCENARIOS, has, run, startInteropServer } from './helpers.ts';

const HAS_SIPP = has('sipp');
const HOST = '127.0.0.1';
const PASSWORD = 'hT6vR3pW9qZ2mK8xN5cB';
const CLIENT = newId();

/** A UDP port free right now on HOST (bound then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('interop: a call between two extensions through the B2BUA (sipp, UDP, MD5)', () => {
  let database: Database;
  let server: SipServer;
  let udp: Endpoint;
  const directory = new MemoryDirectory();
  const caller = newId();

  beforeAll(async () => {
    for (const [username, userId] of [
      ['101', caller],
      ['102', newId()],
    ] as const) {
      directory.addUser({
        userId,
        clientId: CLIENT,
        extension: username,
        username,
        realm: HOST,
        ha1Md5: ha1('MD5', username, HOST, PASSWORD),
        ha1Sha256: ha1('SHA-256', username, HOST, PASSWORD),
      });
    }
    ({ database, server, udp } = await startInteropServer(directory, 'interop-call-secret-interop-call-secret'));
  });

  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it.skipIf(!HAS_SIPP)('101 calls 102: 407 → auth, 180, 200, ACK, BYE both ways; the CDR is written', async () => {
    const [calleePort, calleeMedia, callerMedia] = [await freePort(), await freePort(), await freePort()];
    const common = ['-i', HOST, '-m', '1', '-nostdin', '-timeout', '20s', '-timeout_error'];
    const reg = await run(
      'sipp',
      [`${HOST}:${udp.port}`, '-sf', join(SCENARIOS, 'register.xml'), '-t', 'u1', '-p', String(calleePort), '-s', '102', '-au', '102', '-ap', PASSWORD, ...common],
      { cwd: tmpdir(), limitMs: 30_000 },
    );
    expect(reg.code, reg.output).toBe(0);

    const uas = run('sipp', ['-sf', join(SCENARIOS, 'uas-answer.xml'), '-t', 'u1', '-p', String(calleePort), '-mp', String(calleeMedia), ...common], {
      cwd: tmpdir(),
      limitMs: 40_000,
    });
    const uac = await run(
      'sipp',
      [`${HOST}:${udp.port}`, '-sf', join(SCENARIOS, 'uac-call.xml'), '-t', 'u1', '-mp', String(callerMedia), '-s', '102', '-au', '101', '-ap', PASSWORD, '-auth_uri', `102@${HOST}:${udp.port}`, ...common],
      { cwd: tmpdir(), limitMs: 40_000 },
    );
    const answered = await uas;
    expect(uac.code, uac.output).toBe(0);
    expect(answered.code, answered.output).toBe(0);

    await server.idle();
    const rows = await database.db.select().from(cdrs).where(eq(cdrs.clientId, CLIENT));
    expect(rows).toHaveLength(1);
    const cdr = rows[0]!;
    expect(cdr).toMatchObject({ direction: 'internal', userId: caller, fromExtension: '101', dialled: '102', destination: '102', allowed: true, sipStatus: 200 });
    expect(cdr.answeredAt).not.toBeNull();
    expect(cdr.endedAt).not.toBeNull();
    expect(cdr.billableSeconds).toBeGreaterThanOrEqual(1);
  });
});
