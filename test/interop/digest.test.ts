/**
 * Digest authentication against sipp 3.6.1 (MD5): one wrong password is answered
 * with a new 401 challenge (not stale, not a block: one failure counted for the
 * source and the account, RULES §4.4), after which the right password registers;
 * a correct answer to an expired nonce gets `401` with `stale=true` (the server's
 * nonces live 1 s here, sipp waits 1.5 s), and sipp's answer to the new nonce registers.
 * What sipp received is read from its `-trace_msg` log. Skipped only when sipp is
 * absent; every wait is bounded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import type { Endpoint } from '../../src/sip/index.ts';
import { listSipBlocks } from '../../src/telephony/brute-force.ts';
import { sipAuthFailures } from '../../src/telephony/brute-force-schema.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { activeBindings } from '../../src/telephony/location.ts';
import { SipServer } from '../../src/telephony/sip-server.ts';
import { SCENARIOS, addInteropUser, has, sipp, startInteropServer } from './helpers.ts';

const HAS_SIPP = has('sipp');
const HOST = '127.0.0.1';
const PASSWORD = 'mK3vQ8xR2pT6wN9bZ4cL';
const CLIENT = newId();

/** The responses in a sipp -trace_msg log, each as its text up to the blank line. */
const responses = (log: string): string[] =>
  readFileSync(log, 'utf8')
    .split(/^(?=SIP\/2\.0 \d{3} )/mu)
    .filter((m) => m.startsWith('SIP/2.0 '))
    .map((m) => m.slice(0, m.indexOf('\n\n') < 0 ? undefined : m.indexOf('\n\n')));

describe('interop: digest authentication with sipp (UDP, MD5)', () => {
  let database: Database;
  let server: SipServer;
  let udp: Endpoint;
  const dir = mkdtempSync(join(tmpdir(), 'e2p-digest-'));
  const directory = new MemoryDirectory();
  addInteropUser(directory, { userId: newId(), clientId: CLIENT, username: 'alice', extension: '301', password: PASSWORD });
  addInteropUser(directory, { userId: newId(), clientId: CLIENT, username: 'bob', extension: '302', password: PASSWORD });

  beforeAll(async () => {
    ({ database, server, udp } = await startInteropServer(directory, 'interop-digest-secret-interop-digest-secret', { nonceLifetimeMs: 1000 }));
  });

  afterAll(async () => {
    await server.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const register = (scenario: string, user: string, password: string, log: string) =>
    sipp([`${HOST}:${udp.port}`, '-sf', join(SCENARIOS, scenario), '-t', 'u1', '-i', HOST, '-s', user, '-au', user, '-ap', password, '-m', '1', '-trace_msg', '-message_file', join(dir, log)], { cwd: dir });

  it.skipIf(!HAS_SIPP)('a wrong password gets a new 401 challenge (one failure counted, no block); the right one then registers', async () => {
    const wrong = await register('register-wrong.xml', 'alice', 'not-the-password', 'wrong.log');
    expect(wrong.code, wrong.output).toBe(0);
    const [first, second, ...more] = responses(join(dir, 'wrong.log'));
    expect(more).toEqual([]);
    for (const challenge of [first!, second!]) {
      expect(challenge).toMatch(/^SIP\/2\.0 401 /u);
      expect(challenge).toMatch(/^WWW-Authenticate: Digest realm="127\.0\.0\.1", nonce="[^"]+", opaque="[^"]+", algorithm=MD5, qop="auth"$/mu);
    }
    expect(second).not.toContain('stale');
    await server.idle();
    const failures = await database.db.select().from(sipAuthFailures);
    expect(failures.map((f) => [f.kind, f.key]).sort()).toEqual([
      ['account', 'alice'],
      ['source', HOST],
    ]);
    expect(await listSipBlocks(database.db, systemClock.now())).toEqual([]);
    const right = await register('register.xml', 'alice', PASSWORD, 'right.log');
    expect(right.code, right.output).toBe(0);
    expect(await activeBindings(database.db, `sip:alice@${HOST}`, systemClock.now())).toHaveLength(1);
  });

  it.skipIf(!HAS_SIPP)('an answer to an expired nonce gets 401 with stale=true (no failure counted); the answer to the new nonce registers', async () => {
    await server.idle();
    const failuresBefore = (await database.db.select().from(sipAuthFailures)).length;
    const stale = await register('register-stale.xml', 'bob', PASSWORD, 'stale.log');
    expect(stale.code, stale.output).toBe(0); // the ereg check_it fails the call without stale=true
    const [challenge, staleChallenge, ok, ...more] = responses(join(dir, 'stale.log'));
    expect(more).toEqual([]);
    expect(challenge).not.toContain('stale');
    expect(staleChallenge).toMatch(/^SIP\/2\.0 401 [\s\S]*^WWW-Authenticate: Digest .*, stale=true$/mu);
    expect(ok).toMatch(/^SIP\/2\.0 200 /u);
    await server.idle();
    expect(await database.db.select().from(sipAuthFailures)).toHaveLength(failuresBefore);
    expect(await activeBindings(database.db, `sip:bob@${HOST}`, systemClock.now())).toHaveLength(1);
  });
});
