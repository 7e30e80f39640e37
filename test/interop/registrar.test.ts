/**
 * Interop with real SIP phones (Debian's sipp 3.6.1 and baresip 1.0.0): the SIP
 * server on 127.0.0.1 (ephemeral ports, MD5 challenges as these clients need),
 * a PGlite location service, an in-memory directory. Skipped only when the
 * binary is absent; every wait is bounded, nothing is timed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { type Endpoint, ha1 } from '../../src/sip/index.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { type Binding, activeBindings } from '../../src/telephony/location.ts';
import { SipServer } from '../../src/telephony/sip-server.ts';
import { SCENARIOS, baresipConfig, has, run, startInteropServer } from './helpers.ts';

const HAS_SIPP = has('sipp');
const HAS_BARESIP = has('baresip');

const HOST = '127.0.0.1';
const PASSWORD = 'pW4xT9kQ2mZ7rB5nL8cV';
const CLIENT = newId();

describe('interop with real SIP clients (UDP, MD5 digest)', () => {
  let database: Database;
  let server: SipServer;
  let udp: Endpoint;
  let tcp: Endpoint;
  const directory = new MemoryDirectory();
  const users = new Map<string, string>();

  const addUser = (username: string): string => {
    const userId = newId();
    users.set(username, userId);
    directory.addUser({
      userId,
      clientId: CLIENT,
      extension: String(200 + users.size),
      username,
      realm: HOST,
      ha1Md5: ha1('MD5', username, HOST, PASSWORD),
      ha1Sha256: ha1('SHA-256', username, HOST, PASSWORD),
    });
    return userId;
  };
  const bindings = (username: string): Promise<Binding[]> => activeBindings(database.db, `sip:${username}@${HOST}`, systemClock.now());

  beforeAll(async () => {
    ({ database, server, udp, tcp } = await startInteropServer(directory, 'interop-secret-interop-secret-interop-secret'));
  });

  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it.skipIf(!HAS_SIPP)('sipp gets 200 to OPTIONS over UDP and TCP', async () => {
    for (const [transport, port] of [['u1', udp.port], ['t1', tcp.port]] as const) {
      const r = await run('sipp', [`${HOST}:${port}`, '-sf', join(SCENARIOS, 'options.xml'), '-t', transport, '-i', HOST, '-m', '1', '-nostdin', '-timeout', '15s', '-timeout_error'], {
        cwd: tmpdir(),
        limitMs: 30_000,
      });
      expect(r.code, r.output).toBe(0);
    }
  });

  it.skipIf(!HAS_SIPP)('sipp REGISTERs with digest (MD5), gets 200, the binding is stored, then unregisters with Contact: *', async () => {
    const userId = addUser('sippuser');
    const sipp = (scenario: string, transport: 'u1' | 't1', port: number) =>
      run(
        'sipp',
        [`${HOST}:${port}`, '-sf', join(SCENARIOS, scenario), '-t', transport, '-i', HOST, '-s', 'sippuser', '-au', 'sippuser', '-ap', PASSWORD, '-m', '1', '-nostdin', '-timeout', '15s', '-timeout_error'],
        { cwd: tmpdir(), limitMs: 30_000 },
      );
    const reg = await sipp('register.xml', 'u1', udp.port);
    expect(reg.code, reg.output).toBe(0);
    const [b, ...more] = await bindings('sippuser');
    expect(more).toEqual([]);
    expect(b).toMatchObject({ userId, clientId: CLIENT, sourceAddress: HOST, sourceTransport: 'UDP', userAgent: 'sipp' });
    expect(b!.contactUri).toMatch(/^sip:sippuser@127\.0\.0\.1:\d+;transport=UDP$/i);

    const unreg = await sipp('unregister.xml', 'u1', udp.port);
    expect(unreg.code, unreg.output).toBe(0);
    expect(await bindings('sippuser')).toEqual([]);

    const overTcp = await sipp('register.xml', 't1', tcp.port);
    expect(overTcp.code, overTcp.output).toBe(0);
    expect(await bindings('sippuser')).toMatchObject([{ sourceTransport: 'TCP' }]);
  });

  it.skipIf(!HAS_BARESIP)('baresip registers (MD5), the binding appears in the database, and it unregisters on quit', async () => {
    const userId = addUser('baresipuser');
    const dir = mkdtempSync(join(tmpdir(), 'e2p-baresip-'));
    try {
      baresipConfig(dir, { account: 'baresipuser', password: PASSWORD, server: udp });
      let seen: Binding[] = [];
      const result = await run('baresip', ['-f', dir, '-t', '20'], {
        limitMs: 30_000,
        until: async () => (seen = await bindings('baresipuser')).length > 0,
      });
      expect(result.reached, result.output).toBe(true);
      expect(result.output).toContain('200 OK (Easy2Phone) [1 binding]');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ userId, clientId: CLIENT, sourceAddress: HOST, sourceTransport: 'UDP' });
      expect(seen[0]!.userAgent).toMatch(/baresip/i);
      // On SIGTERM baresip un-REGISTERs and waits for our answer before it exits.
      expect(await bindings('baresipuser'), result.output).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
