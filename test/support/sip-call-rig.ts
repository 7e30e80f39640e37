/**
 * An in-process SIP call rig for the call router tests: a `SipServer` over a fake UDP
 * transport, manual timers, a simulated clock, three users of one client (alice 201,
 * bob 202, carol 203) and helpers to place an authenticated call, answer branches and
 * read CDRs. Phones, the trunk and the carrier are just addresses on the fake transport.
 */
import { eq } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { SimulatedClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { createLogger } from '../../src/logger.ts';
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
} from '../../src/sip/index.ts';
import { cdrs } from '../../src/telephony/cdr-schema.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { applyRegister } from '../../src/telephony/location.ts';
import type { CallPolicy } from '../../src/telephony/policy.ts';
import { SipServer } from '../../src/telephony/sip-server.ts';
import { FakeTransport } from './transport-fake.ts';

export const DOMAIN = 'sip.example.be';
export const PASSWORD = 'Xq7pL2mN9vB4cR8tY1wZ';
export const CLIENT = newId();
export const ALICE = newId();
export const BOB = newId();
export const CAROL = newId();
export const PHONE = { address: '203.0.113.9', port: 40123 };
export const BOB_DESK = { address: '203.0.113.20', port: 5070 };
export const TRUNK = { address: '198.51.100.10', port: 5060 };
export const EMERGENCY = { address: '198.51.100.112', port: 5060 };
export const SDP = 'v=0\r\no=a 1 1 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

export interface Rig {
  server: SipServer;
  udp: FakeTransport;
  clock: SimulatedClock;
  timers: ManualTimers;
  directory: MemoryDirectory;
}

export function rig(database: Database, o: { policy?: CallPolicy; env?: Record<string, string>; nodeId?: string } = {}): Rig {
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
  const config = loadConfig({ E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_DIGEST_ALGORITHMS: 'MD5', ...o.env });
  const server = new SipServer({
    sip: config.sip,
    db: database.db,
    clock,
    log: createLogger('silent'),
    directory,
    nonceSecret: 'a-test-secret-of-at-least-32-characters!',
    timers,
    nodeId: o.nodeId ?? 'test-node',
    ...(o.policy === undefined ? {} : { policy: o.policy }),
  });
  const udp = new FakeTransport({ protocol: 'UDP', delegate: server.delegate, local: { address: '192.0.2.1', port: 5060 } });
  return { server, udp, clock, timers, directory };
}

let seq = 0;
export const nextSeq = (): number => ++seq;

export function invite(to: string, callId: string, cseq: number, extra: string[] = [], from = `<sip:201@${DOMAIN}>`): string {
  return [
    `INVITE sip:${to}@${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-inv-${++seq};rport`,
    'Max-Forwards: 70',
    `From: ${from};tag=alice-${callId}`,
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

export const sentTo = (r: Rig, to: Endpoint, from = 0): SipMessage[] =>
  r.udp.sent.slice(from).flatMap((s) => (s.message !== undefined && s.destination.address === to.address && s.destination.port === to.port ? [s.message] : []));
export const responsesTo = (r: Rig, to: Endpoint, from = 0): SipResponse[] => sentTo(r, to, from).filter((m): m is SipResponse => m.kind === 'response');
export const responses = (r: Rig, from = 0): SipResponse[] => responsesTo(r, PHONE, from);
export const requestsTo = (r: Rig, to: Endpoint, method: string): SipRequest[] =>
  sentTo(r, to).filter((m): m is SipRequest => m.kind === 'request' && m.method === method);

/** Alice's INVITE: the 407, then the INVITE again with credentials. */
export async function call(r: Rig, to: string, o: { callId?: string; extra?: string[]; from?: string } = {}): Promise<{ callId: string; invite: string }> {
  const callId = o.callId ?? `call-${++seq}`;
  const before = r.udp.sent.length;
  r.udp.deliver(invite(to, callId, 1, o.extra, o.from), PHONE);
  await r.server.idle();
  const challenge = responses(r, before).find((m) => m.status === 407)!;
  const value = getHeader(challenge, 'Proxy-Authenticate')!;
  const get = (name: string): string => new RegExp(`${name}="?([^",]+)"?`).exec(value)![1]!;
  const uri = `sip:${to}@${DOMAIN}`;
  const response = digestResponse({ algorithm: 'MD5', ha1: ha1('MD5', 'alice', DOMAIN, PASSWORD), nonce: get('nonce'), nc: '00000001', cnonce: 'c0ffee', qop: 'auth', method: 'INVITE', uri });
  const auth = `Authorization: Digest username="alice", realm="${DOMAIN}", nonce="${get('nonce')}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee", opaque="${get('opaque')}"`;
  const text = invite(to, callId, 2, [auth, ...(o.extra ?? [])], o.from);
  r.udp.deliver(text, PHONE);
  await r.server.idle();
  return { callId, invite: text };
}

export async function registerUser(database: Database, r: Rig, userId: string, username: string, contacts: Endpoint[]): Promise<void> {
  for (const [i, c] of contacts.entries()) {
    await applyRegister(
      database.db,
      {
        aor: `sip:${username}@${DOMAIN}`,
        clientId: CLIENT,
        userId,
        callId: `reg-${i}-${++seq}`,
        cseq: 1,
        removeAll: false,
        contacts: [{ uri: `sip:${username}@${c.address}:${c.port}`, expires: 3600, q: 1 }],
        source: { ...c, transport: 'UDP' },
        userAgent: 'TestPhone',
        maxBindings: 10,
      },
      r.clock.now(),
    );
  }
}

/** A peer answers a B-leg INVITE with `status` (a 200 carries a Contact and the SDP). */
export function answer(r: Rig, req: SipRequest, status: number, from: Endpoint, toTag: string): void {
  r.udp.deliver(
    buildResponse(req, status, {
      toTag,
      headers: status === 200 ? [{ name: 'Contact', value: `<sip:peer@${from.address}:${from.port}>` }] : [],
      ...(status === 200 || status === 183 ? { content: { type: 'application/sdp', body: Buffer.from(SDP) } } : {}),
    }),
    from,
  );
}

/** An in-dialog request from the caller's phone on the A leg (after the 200). */
export function fromCaller(method: string, callId: string, ourTag: string, cseq: number, extra: string[] = [], body = ''): string {
  return [
    `${method} sip:b2bua@192.0.2.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-${method.toLowerCase()}-${++seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`,
    `To: <sip:x@${DOMAIN}>;tag=${ourTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    ...extra,
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

export const cdrOf = async (database: Database, callId: string) => database.db.select().from(cdrs).where(eq(cdrs.callId, callId));
