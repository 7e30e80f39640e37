import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { FakeTransport } from '../../test/support/transport-fake.ts';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/client.ts';
import { SimulatedClock } from '../kernel/clock.ts';
import { newId } from '../kernel/ids.ts';
import { createLogger } from '../logger.ts';
import {
  type Endpoint,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  ManualTimers,
  buildResponse,
  digestResponse,
  getHeader,
  ha1,
} from '../sip/index.ts';
import { cdrs } from './cdr-schema.ts';
import { MemoryDirectory } from './directory.ts';
import { applyRegister } from './location.ts';
import { type CallPolicy, permissiveCallPolicy } from './policy.ts';
import { SipServer } from './sip-server.ts';

const DOMAIN = 'sip.example.be';
const PASSWORD = 'Xq7pL2mN9vB4cR8tY1wZ';
const CLIENT = newId();
const ALICE = newId();
const BOB = newId();
const CAROL = newId();
const PHONE = { address: '203.0.113.9', port: 40123 };
const BOB_DESK = { address: '203.0.113.20', port: 5070 };
const BOB_MOBILE = { address: '203.0.113.21', port: 5080 };
const SDP = 'v=0\r\no=a 1 1 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

interface Rig {
  server: SipServer;
  udp: FakeTransport;
  clock: SimulatedClock;
  timers: ManualTimers;
}

function rig(database: Database, policy?: CallPolicy): Rig {
  const directory = new MemoryDirectory();
  for (const [username, extension, userId] of [
    ['alice', '201', ALICE],
    ['bob', '202', BOB],
    ['carol', '203', CAROL],
  ] as const) {
    directory.addUser({
      userId,
      clientId: CLIENT,
      extension,
      username,
      realm: DOMAIN,
      ha1Md5: ha1('MD5', username, DOMAIN, PASSWORD),
      ha1Sha256: ha1('SHA-256', username, DOMAIN, PASSWORD),
    });
  }
  const clock = new SimulatedClock('2027-01-04T09:00:00Z');
  const timers = new ManualTimers();
  const config = loadConfig({ E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_DIGEST_ALGORITHMS: 'MD5' });
  const server = new SipServer({
    sip: config.sip,
    db: database.db,
    clock,
    log: createLogger('silent'),
    directory,
    nonceSecret: 'a-test-secret-of-at-least-32-characters!',
    timers,
    ...(policy === undefined ? {} : { policy }),
  });
  const udp = new FakeTransport({ protocol: 'UDP', delegate: server.delegate, local: { address: '192.0.2.1', port: 5060 } });
  return { server, udp, clock, timers };
}

let seq = 0;
function invite(to: string, callId: string, cseq: number, extra: string[] = []): string {
  return [
    `INVITE sip:${to}@${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-inv-${++seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`,
    `To: <sip:${to}@${DOMAIN}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} INVITE`,
    'Contact: <sip:alice@10.0.0.5:5062>',
    ...extra,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP)}`,
    '',
    SDP,
  ].join('\r\n');
}

const sentTo = (r: Rig, to: Endpoint, from = 0): SipMessage[] =>
  r.udp.sent.slice(from).flatMap((s) => (s.message !== undefined && s.destination.address === to.address && s.destination.port === to.port ? [s.message] : []));
const responses = (r: Rig, from = 0): SipResponse[] => sentTo(r, PHONE, from).filter((m): m is SipResponse => m.kind === 'response');
const requestsTo = (r: Rig, to: Endpoint, method: string): SipRequest[] =>
  sentTo(r, to).filter((m): m is SipRequest => m.kind === 'request' && m.method === method);

/** Alice's INVITE: the 407, then the INVITE again with credentials (as Authorization, which we accept too). */
async function call(r: Rig, to: string, callId = `call-${++seq}`): Promise<{ callId: string; invite: string }> {
  const before = r.udp.sent.length;
  r.udp.deliver(invite(to, callId, 1), PHONE);
  await r.server.idle();
  const challenge = responses(r, before).find((m) => m.status === 407)!;
  const value = getHeader(challenge, 'Proxy-Authenticate')!;
  const get = (name: string): string => new RegExp(`${name}="?([^",]+)"?`).exec(value)![1]!;
  const uri = `sip:${to}@${DOMAIN}`;
  const response = digestResponse({ algorithm: 'MD5', ha1: ha1('MD5', 'alice', DOMAIN, PASSWORD), nonce: get('nonce'), nc: '00000001', cnonce: 'c0ffee', qop: 'auth', method: 'INVITE', uri });
  const auth = `Authorization: Digest username="alice", realm="${DOMAIN}", nonce="${get('nonce')}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee", opaque="${get('opaque')}"`;
  const text = invite(to, callId, 2, [auth]);
  r.udp.deliver(text, PHONE);
  await r.server.idle();
  return { callId, invite: text };
}

async function registerBob(database: Database, r: Rig, contacts: Endpoint[]): Promise<void> {
  for (const [i, c] of contacts.entries()) {
    await applyRegister(
      database.db,
      {
        aor: `sip:bob@${DOMAIN}`,
        clientId: CLIENT,
        userId: BOB,
        callId: `reg-${i}-${seq}`,
        cseq: 1,
        removeAll: false,
        contacts: [{ uri: `sip:bob@${c.address}:${c.port}`, expires: 3600, q: 1 }],
        source: { ...c, transport: 'UDP' },
        userAgent: 'TestPhone',
        maxBindings: 10,
      },
      r.clock.now(),
    );
  }
}

/** The callee answers a B-leg INVITE with `status`. */
function answer(r: Rig, req: SipRequest, status: number, from: Endpoint, toTag: string): void {
  r.udp.deliver(buildResponse(req, status, { toTag, headers: status === 200 ? [{ name: 'Contact', value: `<sip:bob@${from.address}:${from.port}>` }] : [] }), from);
}

const cdrOf = async (database: Database, callId: string) => database.db.select().from(cdrs).where(eq(cdrs.callId, callId));

describeEachDb('call router', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let r: Rig;
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  afterAll(async () => drop());
  beforeEach(async () => {
    await database.db.execute('DELETE FROM sip_bindings');
    r = rig(database);
  });
  afterEach(async () => {
    await r.server.close();
  });

  it('answers 404 for an extension the client does not have', async () => {
    const { callId } = await call(r, '299');
    expect(responses(r).at(-1)!.status).toBe(404);
    expect(await cdrOf(database, callId)).toEqual([]);
  });

  it('answers 480 when the callee has no binding, and records the attempt', async () => {
    const { callId } = await call(r, '203');
    expect(responses(r).at(-1)!.status).toBe(480);
    expect(await cdrOf(database, callId)).toMatchObject([{ direction: 'internal', destination: '203', allowed: true, sipStatus: 480, billableSeconds: 0 }]);
  });

  it('answers the status of a policy refusal with a Warning, and records the clause', async () => {
    await r.server.close();
    r = rig(database, { ...permissiveCallPolicy(), decide: () => Promise.resolve({ allowed: false, sipStatus: 403, clause: '8.7', reason: 'service suspended' }) });
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const last = responses(r).at(-1)!;
    expect(last.status).toBe(403);
    expect(getHeader(last, 'Warning')).toBe('399 easy2phone "clause 8.7: service suspended"');
    expect(requestsTo(r, BOB_DESK, 'INVITE')).toEqual([]);
    expect(await cdrOf(database, callId)).toMatchObject([{ allowed: false, clause: '8.7', sipStatus: 403, userId: ALICE, fromExtension: '201' }]);
  });

  it('bridges a call: B-leg INVITE with the SDP, 180 and 200 relayed, ACK and BYE bridged, CDR with the duration', async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite, ...more] = requestsTo(r, BOB_DESK, 'INVITE');
    expect(more).toEqual([]);
    expect(bInvite!.callId).not.toBe(callId);
    expect(Buffer.from(bInvite!.body).toString()).toBe(SDP);
    expect(bInvite!.maxForwards).toBe(69);
    answer(r, bInvite!, 180, BOB_DESK, 'bob1');
    expect(responses(r).at(-1)!.status).toBe(180);
    r.clock.advance(1000);
    answer(r, bInvite!, 200, BOB_DESK, 'bob1');
    const ok = responses(r).at(-1)!;
    expect(ok.status).toBe(200);
    expect(getHeader(ok, 'Contact')).toMatch(/^<sip:b2bua@192\.0\.2\.1:5060/);
    const tag = ok.to.params.get('tag')!;
    r.udp.deliver(
      [`ACK sip:b2bua@192.0.2.1:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-ack-1;rport', 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`, `To: <sip:202@${DOMAIN}>;tag=${tag}`, `Call-ID: ${callId}`, 'CSeq: 2 ACK', 'Content-Length: 0', '', ''].join('\r\n'),
      PHONE,
    );
    expect(requestsTo(r, BOB_DESK, 'ACK')).toHaveLength(1);
    r.clock.advance(2500);
    r.udp.deliver(
      [`BYE sip:b2bua@192.0.2.1:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-bye-1;rport', 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`, `To: <sip:202@${DOMAIN}>;tag=${tag}`, `Call-ID: ${callId}`, 'CSeq: 3 BYE', 'Content-Length: 0', '', ''].join('\r\n'),
      PHONE,
    );
    await r.server.idle();
    expect(responses(r).at(-1)).toMatchObject({ status: 200, cseq: { method: 'BYE' } });
    const [bye] = requestsTo(r, BOB_DESK, 'BYE');
    expect(bye!.callId).toBe(bInvite!.callId);
    expect(bye!.to.params.get('tag')).toBe('bob1');
    expect(await cdrOf(database, callId)).toMatchObject([{ direction: 'internal', allowed: true, sipStatus: 200, billableSeconds: 3, dialled: '202', destination: '202' }]);
  });

  it('bridges a BYE from the callee to the caller', async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 200, BOB_DESK, 'bob1');
    const tag = responses(r).at(-1)!.to.params.get('tag')!;
    const ourTag = bInvite!.from.params.get('tag')!;
    r.udp.deliver(
      [`BYE sip:b2bua@192.0.2.1:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 203.0.113.20:5070;branch=z9hG4bK-bbye-1;rport', 'Max-Forwards: 70', `From: <sip:202@${DOMAIN}>;tag=bob1`, `To: <sip:201@${DOMAIN}>;tag=${ourTag}`, `Call-ID: ${bInvite!.callId}`, 'CSeq: 1 BYE', 'Content-Length: 0', '', ''].join('\r\n'),
      BOB_DESK,
    );
    await r.server.idle();
    expect(sentTo(r, BOB_DESK).filter((m) => m.kind === 'response').at(-1)).toMatchObject({ status: 200, cseq: { method: 'BYE' } });
    const [bye] = sentTo(r, PHONE).filter((m): m is SipRequest => m.kind === 'request' && m.method === 'BYE');
    expect(bye!.callId).toBe(callId);
    expect(bye!.from.params.get('tag')).toBe(tag);
    expect(bye!.to.params.get('tag')).toBe(`alice-${callId}`);
    expect(await cdrOf(database, callId)).toMatchObject([{ sipStatus: 200 }]);
  });

  it("cancels the branches when the caller cancels: 200 to the CANCEL, 487 to the INVITE", async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId, invite: text } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 180, BOB_DESK, 'bob1');
    const via = /^Via: .*$/mu.exec(text)![0];
    r.udp.deliver(
      [`CANCEL sip:202@${DOMAIN} SIP/2.0`, via, 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`, `To: <sip:202@${DOMAIN}>`, `Call-ID: ${callId}`, 'CSeq: 2 CANCEL', 'Content-Length: 0', '', ''].join('\r\n'),
      PHONE,
    );
    await r.server.idle();
    const statuses = responses(r).map((m) => `${m.status} ${m.cseq.method}`);
    expect(statuses).toEqual(expect.arrayContaining(['200 CANCEL', '487 INVITE']));
    expect(requestsTo(r, BOB_DESK, 'CANCEL')).toHaveLength(1);
    answer(r, bInvite!, 487, BOB_DESK, 'bob1');
    expect(await cdrOf(database, callId)).toMatchObject([{ sipStatus: 487, answeredAt: null, billableSeconds: 0 }]);
  });

  it('forks to every binding: the first 200 wins, the other branch is cancelled', async () => {
    await registerBob(database, r, [BOB_DESK, BOB_MOBILE]);
    const { callId } = await call(r, '202');
    const [desk] = requestsTo(r, BOB_DESK, 'INVITE');
    const [mobile] = requestsTo(r, BOB_MOBILE, 'INVITE');
    expect(desk!.callId).not.toBe(mobile!.callId);
    answer(r, desk!, 180, BOB_DESK, 'desk');
    answer(r, mobile!, 180, BOB_MOBILE, 'mobile');
    answer(r, mobile!, 200, BOB_MOBILE, 'mobile');
    expect(responses(r).filter((m) => m.status === 200 && m.cseq.method === 'INVITE')).toHaveLength(1);
    const [cancel, ...more] = requestsTo(r, BOB_DESK, 'CANCEL');
    expect(more).toEqual([]);
    expect(cancel!.via[0]!.branch).toBe(desk!.via[0]!.branch);
    expect(requestsTo(r, BOB_MOBILE, 'CANCEL')).toEqual([]);
    // The desk phone answering too late is ACKed and hung up.
    answer(r, desk!, 200, BOB_DESK, 'desk');
    expect(requestsTo(r, BOB_DESK, 'ACK')).toHaveLength(1);
    expect(requestsTo(r, BOB_DESK, 'BYE')).toHaveLength(1);
    r.timers.advance(500); // no ACK yet from the caller: the 200 is resent (UDP)
    expect(responses(r).filter((m) => m.status === 200 && m.cseq.method === 'INVITE')).toHaveLength(2);
    await r.server.idle();
    // Still in progress: the CDR is open (answered, not ended).
    expect(await cdrOf(database, callId)).toMatchObject([{ endedAt: null, sipStatus: 200, hangupBy: null }]);
    expect((await cdrOf(database, callId))[0]!.answeredAt).not.toBeNull();
  });

  it('gives up an unanswered call after the ring timeout with 408', async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 180, BOB_DESK, 'bob1');
    r.timers.advance(180_000);
    await r.server.idle();
    expect(responses(r).at(-1)!.status).toBe(408);
    expect(requestsTo(r, BOB_DESK, 'CANCEL')).toHaveLength(1);
    expect(await cdrOf(database, callId)).toMatchObject([{ sipStatus: 408 }]);
  });
});
