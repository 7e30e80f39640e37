/**
 * A call between two extensions over TCP through the router, on real sockets (RFC 3261
 * §18: Content-Length framing, connection reuse): the caller connects to the server's
 * TCP port; the callee is registered over TCP at a listening socket, which the server
 * connects to for the B-leg. INVITE (407 → credentials), 180, 200, ACK, BYE, CDR.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOB, CLIENT, DOMAIN, PASSWORD, SDP } from '../../test/support/sip-call-rig.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/client.ts';
import { freshMemoryDatabase } from '../db/template.ts';
import { newId } from '../kernel/ids.ts';
import { systemClock } from '../kernel/clock.ts';
import { createLogger } from '../logger.ts';
import {
  type SipMessage,
  type SipRequest,
  type SipResponse,
  StreamFramer,
  buildResponse,
  digestResponse,
  getHeader,
  ha1,
  parseMessage,
  serializeMessage,
} from '../sip/index.ts';
import { cdrs } from './cdr-schema.ts';
import { MemoryDirectory } from './directory.ts';
import { applyRegister } from './location.ts';
import { SipServer } from './sip-server.ts';

const ALICE = newId();

/** A SIP peer on one TCP socket: parsed messages queued, awaited with a bound. */
class Peer {
  private readonly queue: SipMessage[] = [];
  private waiter: (() => void) | undefined;
  constructor(readonly socket: Socket) {
    const framer = new StreamFramer();
    socket.on('error', () => undefined); // the server closing its connections at the end resets them
    socket.on('data', (chunk) => {
      for (const e of framer.push(chunk)) {
        if (e.kind !== 'message') continue;
        const r = parseMessage(e.data, { requireContentLength: true });
        if (r.ok) this.queue.push(r.message);
      }
      this.waiter?.();
    });
  }

  send(text: string | SipMessage): void {
    this.socket.write(typeof text === 'string' ? text : serializeMessage(text));
  }

  async next(pred: (m: SipMessage) => boolean, what: string): Promise<SipMessage> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = this.queue.findIndex(pred);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${what}; got ${this.queue.map((m) => (m.kind === 'request' ? m.method : m.status)).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  response(status: number, method: string): Promise<SipResponse> {
    return this.next((m) => m.kind === 'response' && m.status === status && m.cseq.method === method, `${status} ${method}`) as Promise<SipResponse>;
  }

  request(method: string): Promise<SipRequest> {
    return this.next((m) => m.kind === 'request' && m.method === method, method) as Promise<SipRequest>;
  }
}

const lines = (...l: string[]): string => l.join('\r\n');

describe('a call over TCP through the router (real sockets)', () => {
  let database: Database;
  let server: SipServer;
  let tcpPort = 0;
  let phoneServer: Server;
  let calleePeer: Promise<Peer>;
  let phonePort = 0;

  beforeAll(async () => {
    database = await freshMemoryDatabase();
    const directory = new MemoryDirectory();
    for (const [username, extension, userId] of [
      ['alice', '201', ALICE],
      ['bob', '202', BOB],
    ] as const) {
      directory.addUser({ userId, clientId: CLIENT, extension, username, realm: DOMAIN, ha1Md5: ha1('MD5', username, DOMAIN, PASSWORD), ha1Sha256: ha1('SHA-256', username, DOMAIN, PASSWORD) });
    }
    const config = loadConfig({ E2P_SIP_HOST: '127.0.0.1', E2P_SIP_DOMAIN: DOMAIN, E2P_SIP_UDP_PORT: '0', E2P_SIP_TCP_PORT: '0', E2P_SIP_DIGEST_ALGORITHMS: 'MD5' });
    server = new SipServer({ sip: config.sip, db: database.db, clock: systemClock, log: createLogger('silent'), directory, nonceSecret: 'tcp-call-secret-tcp-call-secret-tcp-call', nodeId: 'tcp-test' });
    tcpPort = (await server.listen()).tcp.port;
    // Bob's phone listens on TCP; it is registered at that address (as a phone keeping its connection would be).
    phoneServer = createServer();
    calleePeer = new Promise((resolve) => phoneServer.once('connection', (s) => resolve(new Peer(s))));
    await new Promise<void>((resolve) => phoneServer.listen(0, '127.0.0.1', resolve));
    phonePort = (phoneServer.address() as { port: number }).port;
    await applyRegister(
      database.db,
      {
        aor: `sip:bob@${DOMAIN}`,
        clientId: CLIENT,
        userId: BOB,
        callId: 'reg-tcp',
        cseq: 1,
        removeAll: false,
        contacts: [{ uri: `sip:bob@127.0.0.1:${phonePort};transport=tcp`, expires: 3600, q: 1 }],
        source: { address: '127.0.0.1', port: phonePort, transport: 'TCP' },
        userAgent: 'TestPhone',
        maxBindings: 10,
      },
      new Date(),
    );
  });

  afterAll(async () => {
    await server.close();
    await new Promise<void>((resolve) => phoneServer.close(() => resolve()));
    await database.close();
  });

  it('sets up, bridges and ends the call; the CDR is closed', async () => {
    const socket = connect({ host: '127.0.0.1', port: tcpPort });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const alice = new Peer(socket);
    const local = `127.0.0.1:${socket.localPort}`;
    const invite = (cseq: number, extra: string[] = []): string =>
      lines(
        `INVITE sip:202@${DOMAIN} SIP/2.0`,
        `Via: SIP/2.0/TCP ${local};branch=z9hG4bK-tcp-inv-${cseq}`,
        'Max-Forwards: 70',
        `From: <sip:201@${DOMAIN}>;tag=alice-tcp`,
        `To: <sip:202@${DOMAIN}>`,
        'Call-ID: tcp-call-1',
        `CSeq: ${cseq} INVITE`,
        `Contact: <sip:alice@${local};transport=tcp>`,
        ...extra,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(SDP)}`,
        '',
        SDP,
      );
    alice.send(invite(1));
    const challenge = await alice.response(407, 'INVITE');
    alice.send(lines(`ACK sip:202@${DOMAIN} SIP/2.0`, `Via: SIP/2.0/TCP ${local};branch=z9hG4bK-tcp-inv-1`, 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-tcp`, getHeader(challenge, 'To')!.replace(/^/u, 'To: '), 'Call-ID: tcp-call-1', 'CSeq: 1 ACK', 'Content-Length: 0', '', ''));
    const value = getHeader(challenge, 'Proxy-Authenticate')!;
    const get = (name: string): string => new RegExp(`${name}="?([^",]+)"?`).exec(value)![1]!;
    const uri = `sip:202@${DOMAIN}`;
    const response = digestResponse({ algorithm: 'MD5', ha1: ha1('MD5', 'alice', DOMAIN, PASSWORD), nonce: get('nonce'), nc: '00000001', cnonce: 'abc', qop: 'auth', method: 'INVITE', uri });
    alice.send(invite(2, [`Proxy-Authorization: Digest username="alice", realm="${DOMAIN}", nonce="${get('nonce')}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc", opaque="${get('opaque')}"`]));

    const bob = await calleePeer;
    const bInvite = await bob.request('INVITE');
    expect(bInvite.via[0]!.transport).toBe('TCP');
    expect(Buffer.from(bInvite.body).toString()).toBe(SDP);
    bob.send(buildResponse(bInvite, 180, { toTag: 'bob-tcp' }));
    await alice.response(180, 'INVITE');
    bob.send(buildResponse(bInvite, 200, { toTag: 'bob-tcp', headers: [{ name: 'Contact', value: `<sip:bob@127.0.0.1:${phonePort};transport=tcp>` }], content: { type: 'application/sdp', body: Buffer.from(SDP) } }));
    const ok = await alice.response(200, 'INVITE');
    const ourTag = ok.to.params.get('tag')!;
    const inDialog = (method: string, cseq: number): string =>
      lines(`${method} sip:b2bua@127.0.0.1:${tcpPort};transport=tcp SIP/2.0`, `Via: SIP/2.0/TCP ${local};branch=z9hG4bK-tcp-${method}-${cseq}`, 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-tcp`, `To: <sip:202@${DOMAIN}>;tag=${ourTag}`, 'Call-ID: tcp-call-1', `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', '');
    alice.send(inDialog('ACK', 2));
    await bob.request('ACK');
    alice.send(inDialog('BYE', 3));
    const bye = await bob.request('BYE');
    bob.send(buildResponse(bye, 200));
    await alice.response(200, 'BYE');
    socket.destroy();
    await server.idle();
    expect(await database.db.select().from(cdrs).where(eq(cdrs.callId, 'tcp-call-1'))).toMatchObject([
      { direction: 'internal', destination: '202', sipStatus: 200, hangupBy: 'caller', endReason: 'bye', sipNode: 'tcp-test' },
    ]);
  });
});
