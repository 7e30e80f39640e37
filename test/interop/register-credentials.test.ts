/**
 * The per-node SIP credential cache as `npm start` wires it (`listenSip`): a phone that
 * registered once is answered from memory, and a password reset takes effect at once on
 * the same node — through real REGISTERs over UDP with MD5 digest.
 */
import { createSocket, type Socket } from 'node:dgram';
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
import { signContract } from '../../src/modules/customers/sign-contract.ts';
import { createUsers } from '../../src/modules/provisioning/create-users.ts';
import { deleteUsers } from '../../src/modules/provisioning/delete-users.ts';
import { resetCredentials } from '../../src/modules/provisioning/reset-credentials.ts';
import { digestResponse, ha1 } from '../../src/sip/index.ts';

const HOST = '127.0.0.1';

describe('REGISTER against the cached provisioning directory (UDP, MD5)', () => {
  let database: Database;
  let platform: Platform;
  let socket: Socket;
  let port = 0;
  let clientId = '';
  let userId = '';
  let username = '';
  let password = '';
  let seq = 0;

  beforeAll(async () => {
    database = await freshMemoryDatabase();
    const config = loadConfig({ E2P_SIP_HOST: HOST, E2P_SIP_UDP_PORT: '0', E2P_SIP_TCP_PORT: '0', E2P_SIP_DIGEST_ALGORITHMS: 'MD5', E2P_LOG_LEVEL: 'silent' });
    platform = await createPlatform(config, { database, logger: createLogger('silent') });
    const { ctx } = platform;
    await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
    clientId = (await createClient(ctx, { principal: 'system', name: 'Cache SRL' })).id;
    const draft = await createContract(ctx, { actor: 'system', clientId, lines: [{ product: 'USER', quantity: 2 }] });
    await signContract(ctx, { actor: 'system', clientId, contractId: draft.id });
    await completeInstallation(ctx, { actor: 'system', clientId });
    const [u] = await createUsers(ctx, { actor: 'system', clientId, users: [{ extension: '101' }, { extension: '102' }] });
    ({ username, password } = u!.credentials);
    userId = u!.user.id;
    port = (await platform.listenSip()).udp.port;
    socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  });

  afterAll(async () => {
    socket.close();
    await platform.close();
    await database.close();
  });

  /** Sends one REGISTER, returns the first answer (bounded wait). */
  function send(authorization?: string): Promise<string> {
    const local = socket.address().port;
    const n = ++seq;
    const text = [
      `REGISTER sip:${HOST} SIP/2.0`,
      `Via: SIP/2.0/UDP ${HOST}:${local};rport;branch=z9hG4bK-cache-${n}`,
      'Max-Forwards: 70',
      `From: <sip:${username}@${HOST}>;tag=cache`,
      `To: <sip:${username}@${HOST}>`,
      'Call-ID: cache-test@127.0.0.1',
      `CSeq: ${n} REGISTER`,
      `Contact: <sip:${username}@${HOST}:${local}>`,
      'Expires: 600',
      ...(authorization === undefined ? [] : [`Authorization: ${authorization}`]),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    return new Promise((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error('no answer')), 10_000);
      socket.once('message', (data) => {
        clearTimeout(limit);
        resolve(data.toString());
      });
      socket.send(text, port, HOST);
    });
  }

  /** REGISTER → 401 → REGISTER with the digest of `secret`: the final status line. */
  async function register(secret: string): Promise<string> {
    const challenge = await send();
    const nonce = /nonce="([^"]+)"/u.exec(challenge)?.[1];
    const opaque = /opaque="([^"]+)"/u.exec(challenge)?.[1];
    if (nonce === undefined || opaque === undefined) throw new Error(`no challenge in ${challenge}`);
    const uri = `sip:${HOST}`;
    const response = digestResponse({ algorithm: 'MD5', ha1: ha1('MD5', username, HOST, secret), nonce, nc: '00000001', cnonce: 'c1', qop: 'auth', method: 'REGISTER', uri });
    const answer = await send(
      `Digest username="${username}", realm="${HOST}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c1", opaque="${opaque}"`,
    );
    return answer.slice(0, answer.indexOf('\r\n'));
  }

  it('a reset password works at once and the old one no longer does; a deleted user is refused at once', async () => {
    expect(await register(password)).toBe('SIP/2.0 200 OK');
    expect(await register(password)).toBe('SIP/2.0 200 OK'); // from the cache this time
    const fresh = await resetCredentials(platform.ctx, { actor: 'system', clientId, userId });
    expect(await register(password)).toBe('SIP/2.0 401 Unauthorized');
    expect(await register(fresh.password)).toBe('SIP/2.0 200 OK');
    await deleteUsers(platform.ctx, { actor: 'system', clientId, userIds: [userId], overrideReason: 'cache test' });
    expect(await register(fresh.password)).toBe('SIP/2.0 401 Unauthorized');
  });
});
