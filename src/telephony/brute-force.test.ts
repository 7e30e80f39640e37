/** Brute-force limits on SIP authentication (RULES §4.4/§4.10) through the SIP server, with a simulated clock. */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/client.ts';
import { SimulatedClock } from '../kernel/clock.ts';
import { newId } from '../kernel/ids.ts';
import { createLogger } from '../logger.ts';
import { listEvents } from '../modules/events/index.ts';
import { type SipResponse, ManualTimers, digestResponse, getHeader, ha1 } from '../sip/index.ts';
import { FakeTransport } from '../../test/support/transport-fake.ts';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import { claimedUsername, listSipBlocks, liftSipBlock } from './brute-force.ts';
import { MemoryDirectory } from './directory.ts';
import { SipServer } from './sip-server.ts';

const DOMAIN = 'sip.example.be';
const PASSWORD = 'Xq7pL2mN9vB4cR8tY1wZ';
const CLIENT = newId();
const ATTACKER = { address: '203.0.113.66', port: 5060 };
const START = '2027-01-04T09:00:00Z';

function directory(): MemoryDirectory {
  const d = new MemoryDirectory();
  for (const [username, extension] of [
    ['alice', '201'],
    ['bob', '202'],
  ] as const) {
    d.addUser({
      userId: newId(),
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

interface Node {
  server: SipServer;
  udp: FakeTransport;
}

function node(database: Database, clock: SimulatedClock, logs?: Record<string, unknown>[]): Node {
  const server = new SipServer({
    sip: loadConfig({ E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_DIGEST_ALGORITHMS: 'MD5' }).sip,
    db: database.db,
    clock,
    log: logs === undefined ? createLogger('silent') : createLogger('warn', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
    directory: directory(),
    nonceSecret: 'a-test-secret-of-at-least-32-characters!',
    timers: new ManualTimers(),
  });
  return { server, udp: new FakeTransport({ protocol: 'UDP', delegate: server.delegate }) };
}

let seq = 0;
function register(user: string, extra: string[] = []): string {
  seq++;
  return [
    `REGISTER sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-bf-${seq}-${Math.random().toString(36).slice(2)};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${DOMAIN}>;tag=f${seq}`,
    `To: <sip:${user}@${DOMAIN}>`,
    `Call-ID: bf-${seq}`,
    `CSeq: ${seq} REGISTER`,
    `Contact: <sip:${user}@10.0.0.5:5062>`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function send(n: Node, text: string, from = ATTACKER): Promise<SipResponse> {
  const before = n.udp.sent.length;
  n.udp.deliver(text, from);
  await n.server.idle();
  const finals = n.udp.sent.slice(before).flatMap((s) => (s.message?.kind === 'response' && s.message.status >= 200 ? [s.message] : []));
  expect(finals).toHaveLength(1);
  return finals[0]!;
}

/** A REGISTER answering a fresh challenge with `password`: one failure when it is wrong. */
async function attempt(n: Node, user: string, password: string, from = ATTACKER): Promise<SipResponse> {
  const challenge = await send(n, register(user), from);
  if (challenge.status !== 401) return challenge;
  const www = getHeader(challenge, 'WWW-Authenticate')!;
  const get = (name: string): string => new RegExp(`${name}="?([^",]+)"?`).exec(www)![1]!;
  const uri = `sip:${DOMAIN}`;
  const nc = '00000001';
  const cnonce = `c${++seq}`;
  const response = digestResponse({ algorithm: 'MD5', ha1: ha1('MD5', user, DOMAIN, password), nonce: get('nonce'), nc, cnonce, qop: 'auth', method: 'REGISTER', uri });
  const auth = `Authorization: Digest username="${user}", realm="${DOMAIN}", nonce="${get('nonce')}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", opaque="${get('opaque')}"`;
  return send(n, register(user, [auth]), from);
}

const other = (i: number) => ({ address: `198.51.100.${i + 1}`, port: 5060 });
const options = (): string => register('nobody').replace(/REGISTER/g, 'OPTIONS');

describeEachDb('SIP brute-force limits (RULES §4.4/§4.10)', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let clock: SimulatedClock;
  let a: Node;
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  afterAll(async () => drop());
  beforeEach(() => {
    clock = new SimulatedClock(START);
    a = node(database, clock);
  });
  afterEach(async () => {
    await a.server.close();
    for (const t of ['sip_auth_failures', 'sip_blocks', 'sip_bindings', 'domain_events']) await database.db.execute(`DELETE FROM ${t}`);
  });

  it('does not count a first challenge without credentials as a failure', async () => {
    for (let i = 0; i < 25; i++) expect((await send(a, register('alice'))).status).toBe(401);
    expect((await attempt(a, 'alice', PASSWORD)).status).toBe(200);
    expect(await listSipBlocks(database.db, clock.now())).toEqual([]);
  });

  it('9 failures from a source do not block; the 10th does, and then even the right password gets 403', async () => {
    // Different (unknown) usernames: only the source reaches the limit.
    for (let i = 0; i < 9; i++) expect((await attempt(a, `guess${i}`, 'wrong')).status).toBe(401);
    expect((await attempt(a, 'alice', PASSWORD)).status).toBe(200);
    expect((await attempt(a, 'guess9', 'wrong')).status).toBe(401); // the 10th failure
    const refused = await send(a, register('alice'));
    expect(refused.status).toBe(403);
    expect(refused.reason).toMatch(/failed authentications/);
    expect((await send(a, options())).status).toBe(403);
    // Other addresses are not affected.
    expect((await attempt(a, 'alice', PASSWORD, other(1))).status).toBe(200);
    const blocks = await listSipBlocks(database.db, clock.now());
    expect(blocks).toMatchObject([{ kind: 'source', key: ATTACKER.address, until: new Date(Date.parse(START) + 15 * 60_000) }]);
    const events = await listEvents(database.db, { type: 'security_block' });
    expect(events).toMatchObject([{ clause: '4.4', details: { kind: 'source', key: ATTACKER.address } }]);
  });

  it('the block ends exactly 15 minutes after it began', async () => {
    for (let i = 0; i < 10; i++) await attempt(a, `guess${i}`, 'wrong');
    clock.advance(15 * 60_000 - 1);
    expect((await send(a, options())).status).toBe(403);
    clock.advance(1);
    expect((await send(a, options())).status).toBe(200);
    expect((await attempt(a, 'alice', PASSWORD)).status).toBe(200);
  });

  it('counts within a sliding 5-minute window only', async () => {
    for (let i = 0; i < 9; i++) await attempt(a, `guess${i}`, 'wrong');
    clock.advance(5 * 60_000 + 1);
    await attempt(a, 'guess9', 'wrong');
    expect((await send(a, options())).status).toBe(200);
    for (let i = 0; i < 8; i++) await attempt(a, `again${i}`, 'wrong');
    expect((await send(a, options())).status).toBe(200);
    await attempt(a, 'again8', 'wrong'); // 10 within the last 5 minutes
    expect((await send(a, options())).status).toBe(403);
  });

  it('10 failures for one account from anywhere lock it: the right password gets 403, other accounts work', async () => {
    for (let i = 0; i < 9; i++) expect((await attempt(a, 'alice', 'wrong', other(i))).status).toBe(401);
    expect((await attempt(a, 'alice', PASSWORD, other(20))).status).toBe(200);
    expect((await attempt(a, 'alice', 'wrong', other(9))).status).toBe(401);
    const locked = await attempt(a, 'alice', PASSWORD, other(21));
    expect(locked.status).toBe(403);
    expect(locked.reason).toMatch(/account locked/);
    expect((await attempt(a, 'bob', PASSWORD, other(21))).status).toBe(200);
    const events = await listEvents(database.db, { type: 'security_block' });
    expect(events).toMatchObject([{ clientId: CLIENT, clause: '4.4', details: { kind: 'account', key: 'alice' } }]);
    clock.advance(15 * 60_000);
    expect((await attempt(a, 'alice', PASSWORD, other(21))).status).toBe(200);
  });

  it('logs each block as a security event', async () => {
    const logs: Record<string, unknown>[] = [];
    const n = node(database, clock, logs);
    try {
      for (let i = 0; i < 10; i++) await attempt(n, 'alice', 'wrong');
      const events = logs.filter((l) => l.event === 'sip.source_blocked' || l.event === 'sip.account_locked');
      expect(events.map((l) => [l.event, l.key, l.clause]).sort()).toEqual([
        ['sip.account_locked', 'alice', '4.4'],
        ['sip.source_blocked', ATTACKER.address, '4.4'],
      ]);
      expect(JSON.stringify(logs)).not.toContain(PASSWORD);
    } finally {
      await n.server.close();
    }
  });

  it('refuses an INVITE carrying the credentials of a locked account before any other work', async () => {
    for (let i = 0; i < 10; i++) await attempt(a, 'alice', 'wrong', other(i));
    const invite = register('bob')
      .replace(/REGISTER sip:[^ ]+/, `INVITE sip:202@${DOMAIN}`)
      .replace(/CSeq: (\d+) REGISTER/, 'CSeq: $1 INVITE')
      .replace('Content-Length: 0', `Proxy-Authorization: Digest username="alice", realm="${DOMAIN}", nonce="x", uri="sip:202@${DOMAIN}", response="0"\r\nContent-Length: 0`);
    const res = await send(a, invite, other(30));
    expect(res.status).toBe(403);
    expect(res.reason).toMatch(/account locked/);
  });

  it('is shared across nodes through the database, and staff can lift a block', async () => {
    for (let i = 0; i < 10; i++) await attempt(a, `guess${i}`, 'wrong');
    const b = node(database, clock);
    try {
      await b.server.guard.refresh();
      expect((await send(b, options())).status).toBe(403);
      const [block] = await listSipBlocks(database.db, clock.now());
      expect(await liftSipBlock(database.db, block!.id, { at: clock.now(), by: 'staff:test', guard: a.server.guard })).toBe(true);
      expect(await liftSipBlock(database.db, block!.id, { at: clock.now(), by: 'staff:test' })).toBe(false);
      expect((await send(a, options())).status).toBe(200);
      await b.server.guard.refresh();
      expect((await send(b, options())).status).toBe(200);
      expect(await listSipBlocks(database.db, clock.now())).toEqual([]);
      expect(await listSipBlocks(database.db, clock.now(), { all: true })).toMatchObject([{ liftedBy: 'staff:test' }]);
      expect(await listEvents(database.db, { type: 'security_block_lifted' })).toHaveLength(1);
      // The failures counted before the block are gone: one more failure does not block again.
      await attempt(a, 'guess10', 'wrong');
      expect((await send(a, options())).status).toBe(200);
    } finally {
      await b.server.close();
    }
  });

  it('a node that did not see the block learns it when it counts a failure for that key', async () => {
    for (let i = 0; i < 10; i++) await attempt(a, `guess${i}`, 'wrong');
    const b = node(database, clock);
    try {
      expect((await send(b, options())).status).toBe(200); // not refreshed yet
      await attempt(b, 'guess10', 'wrong');
      expect((await send(b, options())).status).toBe(403);
      expect(await listSipBlocks(database.db, clock.now())).toHaveLength(1);
    } finally {
      await b.server.close();
    }
  });
});

it('claimedUsername reads Authorization or Proxy-Authorization without any lookup', () => {
  const withAuth = (name: string) => ({ headers: [{ name, value: 'Digest username="carol", realm="x", nonce="n", uri="sip:x", response="r"' }] });
  expect(claimedUsername(withAuth('Proxy-Authorization'))).toBe('carol');
  expect(claimedUsername(withAuth('Authorization'))).toBe('carol');
  expect(claimedUsername(withAuth('Subject'))).toBeUndefined();
});
