/**
 * Brute-force limits (RULES §4.4/§4.10) against a real client: sipp registers
 * ten times with a wrong password from 127.0.0.1, then its source is refused
 * (403) even with the right password. Its own server: the block would refuse
 * every other interop test from 127.0.0.1.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { listEvents } from '../../src/modules/events/index.ts';
import { type Endpoint, ha1 } from '../../src/sip/index.ts';
import { listSipBlocks } from '../../src/telephony/brute-force.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { SipServer } from '../../src/telephony/sip-server.ts';
import { SCENARIOS, has, run, startInteropServer } from './helpers.ts';

const HOST = '127.0.0.1';
const PASSWORD = 'pW4xT9kQ2mZ7rB5nL8cV';
const CLIENT = newId();

describe('brute-force limits with sipp (UDP, MD5 digest)', () => {
  let database: Database;
  let server: SipServer;
  let udp: Endpoint;
  const directory = new MemoryDirectory().addUser({
    userId: newId(),
    clientId: CLIENT,
    extension: '201',
    username: 'victim',
    realm: HOST,
    ha1Md5: ha1('MD5', 'victim', HOST, PASSWORD),
    ha1Sha256: ha1('SHA-256', 'victim', HOST, PASSWORD),
  });

  beforeAll(async () => {
    ({ database, server, udp } = await startInteropServer(directory, 'interop-secret-interop-secret-interop-secret'));
  });

  afterAll(async () => {
    await server.close();
    await database.close();
  });

  const sipp = (scenario: string, password: string, calls: number) =>
    run(
      'sipp',
      [`${HOST}:${udp.port}`, '-sf', join(SCENARIOS, scenario), '-t', 'u1', '-i', HOST, '-s', 'victim', '-au', 'victim', '-ap', password, '-m', String(calls), '-l', '1', '-nostdin', '-timeout', '20s', '-timeout_error'],
      { cwd: tmpdir(), limitMs: 40_000 },
    );

  it.skipIf(!has('sipp'))('ten wrong passwords block the source: then the right password gets 403', async () => {
    const right = await sipp('register.xml', PASSWORD, 1);
    expect(right.code, right.output).toBe(0);
    const wrong = await sipp('register-wrong.xml', 'not-the-password', 10);
    expect(wrong.code, wrong.output).toBe(0);
    await server.idle();
    const refused = await sipp('register-refused.xml', PASSWORD, 1);
    expect(refused.code, refused.output).toBe(0);
    const again = await sipp('register.xml', PASSWORD, 1);
    expect(again.code, again.output).not.toBe(0); // 403 where register.xml expects a 401
    const blocks = await listSipBlocks(database.db, systemClock.now());
    expect(blocks.map((b) => [b.kind, b.key]).sort()).toEqual([
      ['account', 'victim'],
      ['source', HOST],
    ]);
    expect(blocks.every((b) => b.clientId === CLIENT)).toBe(true);
    const events = await listEvents(database.db, { type: 'security_block' });
    expect(events.map((e) => e.clause)).toEqual(['4.4', '4.4']);
  });
});
