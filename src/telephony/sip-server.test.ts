import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/client.ts';
import { SimulatedClock } from '../kernel/clock.ts';
import { newId } from '../kernel/ids.ts';
import {
  type DigestAlgorithm,
  type SipResponse,
  ManualTimers,
  digestResponse,
  getHeader,
  getHeaderValues,
  ha1,
  toTag,
} from '../sip/index.ts';
import { FakeTransport } from '../../test/support/transport-fake.ts';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import type { AuthFailure } from './auth.ts';
import { MemoryDirectory } from './directory.ts';
import { activeBindings, purgeExpiredBindings } from './location.ts';
import { sipNonceSecret } from './nonce-secret.ts';
import { SipServer, type SipServerOptions } from './sip-server.ts';

const DOMAIN = 'sip.example.be';
const PASSWORD = 'Xq7pL2mN9vB4cR8tY1wZ';
const CLIENT = newId();
const USER = newId();
const PHONE = { address: '203.0.113.9', port: 40123 };

function directory(): MemoryDirectory {
  const d = new MemoryDirectory();
  for (const [username, extension, userId] of [
    ['alice', '201', USER],
    ['bob', '202', newId()],
  ] as const) {
    d.addUser({
      userId,
      clientId: CLIENT,
      extension,
      username,
      realm: DOMAIN,
      ha1Md5: ha1('MD5', username, DOMAIN, PASSWORD),
      ha1Sha256: ha1('SHA-256', username, DOMAIN, PASSWORD),
    });
  }
  return d;
}

interface Rig {
  server: SipServer;
  udp: FakeTransport;
  clock: SimulatedClock;
  failures: AuthFailure[];
  /** Nonce counts used per nonce, as a phone keeps them. */
  nc: Map<string, number>;
}

function rig(database: Database, algorithms: DigestAlgorithm[] = ['SHA-256', 'MD5'], extra: Partial<SipServerOptions> = {}): Rig {
  const clock = new SimulatedClock('2027-01-04T09:00:00Z');
  const failures: AuthFailure[] = [];
  const config = loadConfig({ E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_DIGEST_ALGORITHMS: algorithms.join(',') });
  const server = new SipServer({
    sip: config.sip,
    db: database.db,
    clock,
    log: createLogger('silent'),
    directory: directory(),
    nonceSecret: 'a-test-secret-of-at-least-32-characters!',
    timers: new ManualTimers(),
    onAuthFailure: (f) => {
      failures.push(f);
    },
    ...extra,
  });
  const udp = new FakeTransport({ protocol: 'UDP', delegate: server.delegate, local: { address: '192.0.2.1', port: 5060 } });
  return { server, udp, clock, failures, nc: new Map() };
}

let callSeq = 0;
interface Req {
  method?: string;
  user?: string;
  callId?: string;
  cseq?: number;
  contact?: string | string[] | null;
  expires?: number | null;
  extra?: string[];
  maxForwards?: number;
}

function request(o: Req = {}): string {
  const method = o.method ?? 'REGISTER';
  const user = o.user ?? 'alice';
  const contacts = o.contact === undefined ? [`<sip:${user}@10.0.0.5:5062;transport=udp>`] : o.contact === null ? [] : [o.contact].flat();
  const lines = [
    `${method} sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-${++callSeq}-${Math.random().toString(36).slice(2)};rport`,
    `Max-Forwards: ${o.maxForwards ?? 70}`,
    `From: <sip:${user}@${DOMAIN}>;tag=f${callSeq}`,
    `To: <sip:${user}@${DOMAIN}>`,
    `Call-ID: ${o.callId ?? `call-${callSeq}`}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    ...contacts.map((c) => `Contact: ${c}`),
    ...(o.expires === null || o.expires === undefined ? [] : [`Expires: ${o.expires}`]),
    'User-Agent: TestPhone/1.0',
    ...(o.extra ?? []),
    'Content-Length: 0',
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function authorization(challenge: string, o: { method?: string; user?: string; password?: string; nc?: number; uri?: string } = {}): string {
  const get = (name: string): string => new RegExp(`${name}="?([^",]+)"?`).exec(challenge)![1]!;
  const algorithm = get('algorithm') as DigestAlgorithm;
  const user = o.user ?? 'alice';
  const uri = o.uri ?? `sip:${DOMAIN}`;
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = 'c0ffee';
  const response = digestResponse({
    algorithm,
    ha1: ha1(algorithm, user, DOMAIN, o.password ?? PASSWORD),
    nonce: get('nonce'),
    nc,
    cnonce,
    qop: 'auth',
    method: o.method ?? 'REGISTER',
    uri,
  });
  return `Authorization: Digest username="${user}", realm="${DOMAIN}", nonce="${get('nonce')}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}", opaque="${get('opaque')}"`;
}

async function send(r: Rig, text: string, from = PHONE): Promise<SipResponse> {
  const before = r.udp.sent.length;
  r.udp.deliver(text, from);
  await r.server.idle();
  const finals = r.udp.sent.slice(before).flatMap((s) => (s.message?.kind === 'response' && s.message.status >= 200 ? [s.message] : []));
  expect(finals).toHaveLength(1);
  return finals[0]!;
}

/** REGISTER, take the first challenge, answer it. */
async function register(r: Rig, o: Req & { password?: string } = {}): Promise<SipResponse> {
  const challenge = await send(r, request(o));
  expect(challenge.status).toBe(401);
  const www = getHeader(challenge, 'WWW-Authenticate')!;
  const key = `${o.user ?? 'alice'}|${www}`;
  const nc = (r.nc.get(key) ?? 0) + 1;
  r.nc.set(key, nc);
  const auth = authorization(www, { nc, user: o.user ?? 'alice', ...(o.password ? { password: o.password } : {}) });
  return send(r, request({ ...o, cseq: (o.cseq ?? 1) + 1, extra: [...(o.extra ?? []), auth] }));
}

describe('SipServer, protocol checks', () => {
  let database: Database;
  let r: Rig;
  beforeAll(async () => {
    database = (await migratedTestDatabase('pglite')).database;
  });
  afterAll(async () => database.close());
  beforeEach(() => {
    r = rig(database);
  });

  it('answers OPTIONS with 200, Allow, Accept and Supported', async () => {
    const res = await send(r, request({ method: 'OPTIONS', contact: null }));
    expect(res.status).toBe(200);
    expect(getHeaderValues(res, 'Allow')).toEqual(expect.arrayContaining(['REGISTER', 'OPTIONS']));
    expect(getHeader(res, 'Accept')).toBe('application/sdp');
    expect(getHeader(res, 'Supported')).toBeDefined();
    expect(getHeader(res, 'Server')).toBe('Easy2Phone');
  });

  it('answers an unknown method with 501 and the methods it allows', async () => {
    const res = await send(r, request({ method: 'FROBNICATE', contact: null }));
    expect(res.status).toBe(501);
    expect(getHeaderValues(res, 'Allow')).toContain('REGISTER');
  });

  it('refuses an unsupported Require with 420 and Unsupported', async () => {
    const res = await send(r, request({ extra: ['Require: foo, path'] }));
    expect(res.status).toBe(420);
    expect(getHeaderValues(res, 'Unsupported')).toEqual(['foo', 'path']);
  });

  it('refuses an unsupported Proxy-Require spelled in lower case', async () => {
    const res = await send(r, request({ extra: ['proxy-require: bar'] }));
    expect(res.status).toBe(420);
    expect(getHeaderValues(res, 'Unsupported')).toEqual(['bar']);
  });

  it('answers Max-Forwards 0 with 483', async () => {
    const res = await send(r, request({ maxForwards: 0 }));
    expect(res.status).toBe(483);
  });

  it('answers a malformed request with 400', async () => {
    const res = await send(r, request().replace('Max-Forwards: 70', 'Max-Forwards: seventy'));
    expect(res.status).toBe(400);
  });

  it('answers an unsupported URI scheme with 416', async () => {
    const res = await send(r, request({ method: 'OPTIONS', contact: null }).replace(`OPTIONS sip:${DOMAIN}`, 'OPTIONS http://example.com'));
    expect(res.status).toBe(416);
  });

  it('sends the response to the source port when the Via has rport (RFC 3581)', async () => {
    r.udp.deliver(request({ method: 'OPTIONS', contact: null }), PHONE);
    await r.server.idle();
    const last = r.udp.sent.at(-1)!;
    expect(last.destination).toEqual(PHONE);
    expect(last.message?.via[0]?.rport).toBe(PHONE.port);
    expect(last.message?.via[0]?.received).toBe(PHONE.address);
  });

  it('answers 500 when the directory fails, and keeps serving', async () => {
    const failing = new SipServer({
      sip: loadConfig({ E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_DIGEST_ALGORITHMS: 'MD5' }).sip,
      db: database.db,
      clock: r.clock,
      log: createLogger('silent'),
      directory: { findSipCredentials: () => Promise.reject(new Error('database down')), findUserByExtension: () => Promise.resolve(null), findDidTarget: () => Promise.resolve(null) },
      nonceSecret: 'a-test-secret-of-at-least-32-characters!',
      timers: new ManualTimers(),
    });
    const t = new FakeTransport({ delegate: failing.delegate });
    const f: Rig = { server: failing, udp: t, clock: r.clock, failures: [], nc: new Map() };
    const challenge = await send(f, request());
    const res = await send(f, request({ cseq: 2, extra: [authorization(getHeader(challenge, 'WWW-Authenticate')!)] }));
    expect(res.status).toBe(500);
    expect((await send(f, request({ method: 'OPTIONS', contact: null }))).status).toBe(200);
  });

  it('survives garbage on a stream transport too (fuzz, TCP framing rules)', async () => {
    const tcp = new FakeTransport({ protocol: 'TCP', delegate: r.server.delegate });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(request(), request({ method: 'OPTIONS', contact: null })), async (junk, valid) => {
        expect(() => tcp.deliver(Buffer.concat([Buffer.from(valid.slice(0, junk.length % valid.length)), junk]))).not.toThrow();
        await r.server.idle();
      }),
      { numRuns: 200 },
    );
  });

  it('never throws and answers everything with a parsable message, whatever arrives (fuzz)', async () => {
    const base = [request(), request({ method: 'OPTIONS', contact: null }), request({ method: 'INVITE' }), request({ contact: '*', expires: 0 })];
    const mutated = fc
      .tuple(fc.constantFrom(...base), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat())
      .map(([text, flips, cut]) => {
        const bytes = Buffer.from(text);
        for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
        return cut % 5 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, fc.uint8Array({ maxLength: 300 })), async (data) => {
        const before = r.udp.sent.length;
        expect(() => r.udp.deliver(new Uint8Array(data))).not.toThrow();
        await r.server.idle();
        // A 400 copies the raw headers as received, so it may not parse again: check its status line.
        for (const s of r.udp.sent.slice(before)) expect(Buffer.from(s.data).toString('latin1')).toMatch(/^SIP\/2\.0 [1-6]\d\d /u);
      }),
      { numRuns: 300 },
    );
  });
});

describeEachDb('registrar', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let r: Rig;
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  afterAll(async () => drop());
  beforeEach(() => {
    r = rig(database);
  });
  afterEach(async () => {
    await r.server.close();
    await database.db.execute('DELETE FROM sip_bindings');
  });

  const aor = `sip:alice@${DOMAIN}`;

  it('challenges with SHA-256 then MD5 by default, with one algorithm when configured', async () => {
    const res = await send(r, request());
    expect(res.status).toBe(401);
    const values = getHeaderValues(res, 'WWW-Authenticate');
    expect(values.map((v) => /algorithm=([\w-]+)/.exec(v)?.[1])).toEqual(['SHA-256', 'MD5']);
    expect(values[0]).toContain(`realm="${DOMAIN}"`);
    const md5 = rig(database, ['MD5']);
    const only = await send(md5, request());
    expect(getHeaderValues(only, 'WWW-Authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1])).toEqual(['MD5']);
  });

  it('challenges statelessly (RFC 3261 §8.2.7): no transaction kept for the 401, the same To tag for a retransmission', async () => {
    const text = request();
    const first = await send(r, text);
    expect(first.status).toBe(401);
    expect(r.server.layer.size).toBe(0); // nothing lingers 32 s per unauthenticated REGISTER (§26.1.5: floods)
    const again = await send(r, text); // the retransmission is answered anew, with a fresh nonce
    expect(toTag(again)).toBe(toTag(first));
    expect(getHeader(again, 'WWW-Authenticate')).not.toBe(getHeader(first, 'WWW-Authenticate'));
    expect((await register(r)).status).toBe(200);
    expect(r.server.layer.size).toBe(1); // the authenticated REGISTER's transaction lingers as it must (Timer J)
  });

  it('writes the 401 and the 200 from the request\'s headers: copied lines as received (Via stamped), Server before Content-Length (issue #4)', async () => {
    const lines = (text: string): string[] => text.split('\r\n');
    const wire = (at: number): string => Buffer.from(r.udp.sent[at]!.data).toString('utf8');
    const text = request();
    const copied = lines(text).filter((l) => /^(From|To|Call-ID|CSeq):/u.test(l));
    const stampedVia = lines(text)[1]!.replace(/;rport$/u, `;rport=${PHONE.port};received=${PHONE.address}`);
    r.udp.deliver(text, PHONE);
    await r.server.idle();
    const challenge = lines(wire(0));
    expect(challenge[0]).toBe('SIP/2.0 401 Unauthorized');
    expect(challenge.slice(1, 6)).toEqual([stampedVia, copied[0], `${copied[1]!};tag=${/;tag=([^;]+)$/u.exec(challenge[3]!)![1]!}`, copied[2], copied[3]]);
    expect(challenge.slice(-4)).toEqual(['Server: Easy2Phone', 'Content-Length: 0', '', '']);
    const res = await register(r, { extra: ['Subject: compact forms below'] });
    expect(res.status).toBe(200);
    const ok = lines(wire(r.udp.sent.length - 1));
    expect(ok.filter((l) => /^(Contact|Date|Server|Content-Length):/u.test(l)).map((l) => l.split(':')[0])).toEqual(['Contact', 'Date', 'Server', 'Content-Length']);
    // Compact names and a folded To: the copy is the parsed (long-named, unfolded) header, as the typed path writes it.
    const compact = request({ user: 'bob' }).replace('\r\nFrom:', '\r\nf:').replace('\r\nTo: ', '\r\nt:\r\n ').replace('\r\nCall-ID:', '\r\ni:');
    r.udp.deliver(compact, PHONE);
    await r.server.idle();
    const short = lines(wire(r.udp.sent.length - 1));
    expect(short[0]).toBe('SIP/2.0 401 Unauthorized');
    expect(short.slice(2, 5).map((l) => (l.startsWith('To:') ? l.replace(/;tag=[^;]+$/u, '') : l))).toEqual([`From: <sip:bob@${DOMAIN}>;tag=f${callSeq}`, `To: <sip:bob@${DOMAIN}>`, `Call-ID: call-${callSeq}`]);
  });

  it('registers with digest, stores the binding with its source, lists it in the 200', async () => {
    const res = await register(r);
    expect(res.status).toBe(200);
    expect(getHeaderValues(res, 'Contact')).toEqual(['<sip:alice@10.0.0.5:5062;transport=udp>;expires=3600']);
    expect(getHeader(res, 'Date')).toBe('Mon, 04 Jan 2027 09:00:00 GMT');
    const [b, ...rest] = await activeBindings(database.db, aor, r.clock.now());
    expect(rest).toEqual([]);
    expect(b).toMatchObject({
      clientId: CLIENT,
      userId: USER,
      contactUri: 'sip:alice@10.0.0.5:5062;transport=udp',
      sourceAddress: PHONE.address,
      sourcePort: PHONE.port,
      sourceTransport: 'UDP',
      cseq: 2,
      q: 1,
      userAgent: 'TestPhone/1.0',
    });
    expect(b!.expiresAt).toEqual(new Date('2027-01-04T10:00:00Z'));
  });

  it('authenticates with MD5 too (sipp, baresip, old phones)', async () => {
    const challenge = await send(r, request());
    const md5 = getHeaderValues(challenge, 'WWW-Authenticate').find((v) => v.includes('MD5'))!;
    const res = await send(r, request({ cseq: 2, extra: [authorization(md5)] }));
    expect(res.status).toBe(200);
  });

  it('answers 423 with Min-Expires below 60 s and caps at 7200 s', async () => {
    const challenge = await send(r, request({ expires: 30 }));
    const www = getHeader(challenge, 'WWW-Authenticate')!;
    const tooBrief = await send(r, request({ expires: 30, cseq: 2, extra: [authorization(www)] }));
    expect(tooBrief.status).toBe(423);
    expect(getHeader(tooBrief, 'Min-Expires')).toBe('60');
    const capped = await send(r, request({ expires: 100_000, cseq: 3, extra: [authorization(www, { nc: 2 })] }));
    expect(capped.status).toBe(200);
    expect(getHeaderValues(capped, 'Contact')[0]).toMatch(/;expires=7200$/);
  });

  it('keeps several contacts, and Contact: * with Expires 0 removes them all', async () => {
    const callId = 'multi';
    const res = await register(r, { callId, contact: ['<sip:alice@10.0.0.5:5062>;expires=120', '<sip:alice@10.0.0.6:5070>;q=0.5'] });
    expect(res.status).toBe(200);
    expect(getHeaderValues(res, 'Contact')).toEqual(['<sip:alice@10.0.0.5:5062>;expires=120', '<sip:alice@10.0.0.6:5070>;expires=3600;q=0.5']);
    const other = await register(r, { callId: 'other-phone', contact: '<sip:alice@198.51.100.1>' });
    expect(getHeaderValues(other, 'Contact')).toHaveLength(3);
    expect(await activeBindings(database.db, aor, r.clock.now())).toHaveLength(3);

    const badStar = await register(r, { callId, cseq: 10, contact: '*', expires: 60 });
    expect(badStar.status).toBe(400);
    const star = await register(r, { callId, cseq: 20, contact: '*', expires: 0 });
    expect(star.status).toBe(200);
    expect(getHeaderValues(star, 'Contact')).toEqual([]);
    expect(await activeBindings(database.db, aor, r.clock.now())).toEqual([]);
  });

  it('removes one contact with expires=0 and answers a query with the current bindings', async () => {
    await register(r, { contact: ['<sip:alice@10.0.0.5:5062>', '<sip:alice@10.0.0.6:5070>'] });
    const removed = await register(r, { contact: '<sip:alice@10.0.0.5:5062>;expires=0' });
    expect(getHeaderValues(removed, 'Contact')).toEqual(['<sip:alice@10.0.0.6:5070>;expires=3600']);
    r.clock.advance(60_000);
    const query = await register(r, { contact: null });
    expect(query.status).toBe(200);
    expect(getHeaderValues(query, 'Contact')).toEqual(['<sip:alice@10.0.0.6:5070>;expires=3540']);
  });

  it('refuses a REGISTER with the same Call-ID and a CSeq not higher than the binding (§10.3 step 7) with 500', async () => {
    const ok = await register(r, { callId: 'seq', cseq: 10 }); // binding at CSeq 11
    expect(ok.status).toBe(200);
    const replay = await register(r, { callId: 'seq', cseq: 5 }); // authenticated at CSeq 6
    expect(replay.status).toBe(500);
    expect(await activeBindings(database.db, aor, r.clock.now())).toMatchObject([{ cseq: 11 }]);
    const later = await register(r, { callId: 'seq', cseq: 20 });
    expect(later.status).toBe(200);
  });

  it('answers stale=true to a correct answer to an expired nonce', async () => {
    const challenge = await send(r, request());
    const www = getHeader(challenge, 'WWW-Authenticate')!;
    r.clock.advance(6 * 60_000);
    const res = await send(r, request({ cseq: 2, extra: [authorization(www)] }));
    expect(res.status).toBe(401);
    expect(getHeader(res, 'WWW-Authenticate')).toContain('stale=true');
    expect(r.failures).toEqual([]);
  });

  it('takes the nonce lifetime from its options (nonceLifetimeMs)', async () => {
    const short = rig(database, ['SHA-256', 'MD5'], { nonceLifetimeMs: 1000 });
    const www = getHeader(await send(short, request()), 'WWW-Authenticate')!;
    short.clock.advance(900);
    expect((await send(short, request({ cseq: 2, extra: [authorization(www)] }))).status).toBe(200);
    short.clock.advance(200);
    const res = await send(short, request({ cseq: 3, extra: [authorization(www, { nc: 2 })] }));
    expect(res.status).toBe(401);
    expect(getHeader(res, 'WWW-Authenticate')).toContain('stale=true');
  });

  it('reports a wrong password or an unknown user as a security event and challenges again', async () => {
    const wrong = await register(r, { password: 'not-the-password-at-all' });
    expect(wrong.status).toBe(401);
    const unknown = await register(r, { user: 'mallory' });
    expect(unknown.status).toBe(401);
    expect(r.failures).toMatchObject([
      { username: 'alice', method: 'REGISTER', reason: 'wrong response', source: { address: PHONE.address, port: PHONE.port, transport: 'UDP' } },
      { username: 'mallory', reason: 'unknown user' },
    ]);
    expect(await activeBindings(database.db, aor, r.clock.now())).toEqual([]);
  });

  it('refuses a nonce-count replay', async () => {
    const challenge = await send(r, request());
    const auth = authorization(getHeader(challenge, 'WWW-Authenticate')!);
    expect((await send(r, request({ cseq: 2, extra: [auth] }))).status).toBe(200);
    expect((await send(r, request({ cseq: 3, extra: [auth] }))).status).toBe(401);
    expect(r.failures.map((f) => f.reason)).toEqual(['nonce-count replayed']);
  });

  it("forbids registering someone else's address-of-record", async () => {
    const challenge = await send(r, request());
    const auth = authorization(getHeader(challenge, 'WWW-Authenticate')!);
    const res = await send(r, request({ cseq: 2, extra: [auth] }).replace(`To: <sip:alice@${DOMAIN}>`, `To: <sip:bob@${DOMAIN}>`));
    expect(res.status).toBe(403);
  });

  it('ignores expired bindings, purges them, and keeps live ones across a new server (restart)', async () => {
    await register(r, { contact: '<sip:alice@10.0.0.5>;expires=60' });
    await register(r, { callId: 'long', contact: '<sip:alice@10.0.0.6>;expires=600' });
    r.clock.advance(61_000);
    expect((await activeBindings(database.db, aor, r.clock.now())).map((b) => b.contactUri)).toEqual(['sip:alice@10.0.0.6']);
    expect(await purgeExpiredBindings(database.db, r.clock.now())).toBe(1);
    const restarted = rig(database);
    restarted.clock.set(r.clock.now());
    const query = await register(restarted, { contact: null });
    expect(getHeaderValues(query, 'Contact')).toEqual(['<sip:alice@10.0.0.6>;expires=539']);
  });

  it('keeps the nonce secret in settings: the same one after a restart', async () => {
    const now = new Date('2027-01-04T09:00:00Z');
    const first = await sipNonceSecret(database.db, undefined, now);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(await sipNonceSecret(database.db, undefined, now)).toBe(first);
    expect(await sipNonceSecret(database.db, 'configured-secret-configured-secret', now)).toBe('configured-secret-configured-secret');
  });
});
