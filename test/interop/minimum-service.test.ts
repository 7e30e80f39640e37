/**
 * Issue #6 through the real SIP server with sipp 3.6.1: a client suspended to minimum
 * service (§8.7; here by staff under §9.1c) calls a mobile number → 403, the CDR naming
 * clause 8.7; it calls 112 → the call policy lets it through (emergency), and the router
 * answers 503 only because the emergency route is not built yet (telephony). After staff
 * reactivation the mobile call is no longer refused by the policy.
 * Skipped only when sipp is absent; every wait is bounded.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { freshMemoryDatabase } from '../../src/db/template.ts';
import { createLogger } from '../../src/logger.ts';
import { createProduct } from '../../src/modules/catalog/create-product.ts';
import { completeInstallation, createClient, createContract, signContract } from '../../src/modules/customers/index.ts';
import { reactivateClient, suspendClient } from '../../src/modules/payments/index.ts';
import { createUsers } from '../../src/modules/provisioning/index.ts';
import { cdrs } from '../../src/telephony/cdr-schema.ts';
import { SCENARIOS, has, run } from './helpers.ts';

const HAS_SIPP = has('sipp');
const HOST = '127.0.0.1';

describe('interop: minimum service through the SIP server (sipp, UDP, MD5)', () => {
  let database: Database;
  let platform: Platform;
  let port: number;
  let clientId: string;
  let username: string;
  let password: string;

  beforeAll(async () => {
    database = await freshMemoryDatabase();
    const config = loadConfig({ E2P_SIP_HOST: HOST, E2P_SIP_UDP_PORT: '0', E2P_SIP_TCP_PORT: '0', E2P_SIP_DIGEST_ALGORITHMS: 'MD5', E2P_LOG_LEVEL: 'silent' }, '/tmp');
    platform = await createPlatform(config, { database, logger: createLogger('silent') });
    const ctx = platform.ctx;
    await createProduct(ctx, { actor: 'system', code: 'USER', kind: 'recurring', unit: 'user', priceCents: 1250 });
    const client = await createClient(ctx, { principal: 'system', name: 'Suspended SRL' });
    clientId = client.id;
    const draft = await createContract(ctx, { actor: 'system', clientId, lines: [{ product: 'USER', quantity: 1 }] });
    await signContract(ctx, { actor: 'system', clientId, contractId: draft.id });
    await completeInstallation(ctx, { actor: 'system', clientId });
    const [user] = await createUsers(ctx, { actor: 'system', clientId, users: [{ extension: '101' }] });
    ({ username, password } = user!.credentials);
    await suspendClient(ctx, { actor: 'system', clientId, clause: '9.1c', reason: 'breach of §4 (interop test)' });
    port = (await platform.listenSip()).udp.port;
  });

  afterAll(async () => {
    await platform.close();
    await database.close();
  });

  const dial = (number: string) =>
    run(
      'sipp',
      [`${HOST}:${port}`, '-sf', join(SCENARIOS, 'uac-refused.xml'), '-t', 'u1', '-s', number, '-key', 'user', username, '-au', username, '-ap', password, '-auth_uri', `${number}@${HOST}:${port}`, '-i', HOST, '-m', '1', '-nostdin', '-timeout', '20s', '-timeout_error'],
      { cwd: tmpdir(), limitMs: 40_000 },
    );

  it.skipIf(!HAS_SIPP)('a mobile number gets 403 naming §8.7; 112 passes the policy; after reactivation the mobile call is not refused', { timeout: 150_000 }, async () => {
    const mobile = await dial('0470123456');
    expect(mobile.code, mobile.output).toBe(0);
    const emergency = await dial('112');
    expect(emergency.code, emergency.output).toBe(0);
    await reactivateClient(platform.ctx, { actor: 'system', clientId, reason: 'interop test over' });
    const after = await dial('0470123456');
    expect(after.code, after.output).toBe(0);

    const rows = await database.db.select().from(cdrs).where(eq(cdrs.clientId, clientId)).orderBy(asc(cdrs.startedAt));
    expect(rows.map((r) => [r.dialled, r.allowed, r.clause, r.sipStatus, r.emergency])).toEqual([
      ['0470123456', false, '8.7', 403, false],
      ['112', true, null, 503, true],
      ['0470123456', true, null, 503, false],
    ]);
  });
});
