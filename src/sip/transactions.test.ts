import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeTransport } from '../../test/support/transport-fake.ts';
import { buildCancel, buildRequest, buildResponse, responseBytes } from './builders.ts';
import type { ClientTransactionDelegate } from './client-transaction.ts';
import { type SipRequest, type SipResponse, toTag } from './message.ts';
import { parseMessage } from './parser.ts';
import { serializeMessage } from './serializer.ts';
import { ServerInviteTransaction, ServerNonInviteTransaction, type ServerTransaction } from './server-transaction.ts';
import { ManualTimers } from './timers.ts';
import { TRYING_DELAY_MS, TransactionLayer, type TransactionUser } from './transactions.ts';
import type { Source, TransportProtocol } from './transport.ts';
import { parseUri, type Uri } from './uri.ts';

const uri = (s: string): Uri => {
  const r = parseUri(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const peer = { address: '198.51.100.7', port: 5060 };

function request(method: string, branch = 'z9hG4bKclient1'): SipRequest {
  return buildRequest({
    method,
    uri: uri('sip:bob@198.51.100.7'),
    from: { displayName: undefined, uri: uri('sip:alice@easy2phone.be'), params: new Map([['tag', 'a1']]) },
    to: { displayName: undefined, uri: uri('sip:bob@198.51.100.7'), params: new Map() },
    callId: 'call-1',
    cseq: 1,
    via: { transport: 'UDP', host: '192.0.2.1', port: 5060, branch },
  });
}

/** A request as a phone would send it to us. */
const inbound = (method: string, o: { branch?: string; via?: string; cseqMethod?: string; toTag?: string } = {}): string =>
  [
    `${method} sip:1001@192.0.2.1 SIP/2.0`,
    o.via ?? `Via: SIP/2.0/UDP 198.51.100.7:5060;branch=${o.branch ?? 'z9hG4bKphone1'}`,
    'Max-Forwards: 70',
    `To: <sip:1001@easy2phone.be>${o.toTag === undefined ? '' : `;tag=${o.toTag}`}`,
    'From: <sip:1002@easy2phone.be>;tag=p1',
    'Call-ID: inbound-1',
    `CSeq: 7 ${o.cseqMethod ?? method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

class Recorder implements ClientTransactionDelegate {
  responses: SipResponse[] = [];
  timeouts = 0;
  errors: Error[] = [];
  terminated = 0;
  onResponse(r: SipResponse): void {
    this.responses.push(r);
  }
  onTimeout(): void {
    this.timeouts++;
  }
  onTransportError(e: Error): void {
    this.errors.push(e);
  }
  onTerminated(): void {
    this.terminated++;
  }
}

class User implements TransactionUser {
  requests: { request: SipRequest; tx: ServerTransaction | undefined; source: Source }[] = [];
  strays: SipResponse[] = [];
  onRequest(request: SipRequest, tx: ServerTransaction | undefined, source: Source): void {
    this.requests.push({ request, tx, source });
  }
  onStrayResponse(response: SipResponse): void {
    this.strays.push(response);
  }
}

function setup(protocol: TransportProtocol = 'UDP') {
  const timers = new ManualTimers();
  const transport = new FakeTransport({ protocol });
  const user = new User();
  const layer = new TransactionLayer({ user, timers });
  transport.delegate = layer;
  const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
  return { timers, transport, user, layer, flush };
}

/** Times at which messages were sent, as counted from `sent` growth while advancing by 100 ms steps. */
function sendTimes(timers: ManualTimers, transport: FakeTransport, until: number, step = 100): number[] {
  const times: number[] = [];
  let seen = transport.sent.length;
  for (let t = 0; t < until; t += step) {
    timers.advance(step);
    for (; seen < transport.sent.length; seen++) times.push(timers.now);
  }
  return times;
}

const reply = (req: SipRequest, status: number, tag = 'b1'): SipResponse => buildResponse(req, status, { toTag: tag });

describe('client INVITE transaction (§17.1.1, RFC 6026)', () => {
  it('retransmits with Timer A doubling, and times out with Timer B after 64*T1', () => {
    const { timers, transport, layer } = setup();
    const rec = new Recorder();
    layer.sendRequest(request('INVITE'), transport, peer, rec);
    expect(transport.sent).toHaveLength(1);
    expect(sendTimes(timers, transport, 32_000)).toEqual([500, 1500, 3500, 7500, 15500, 31500]);
    expect(rec.timeouts).toBe(1);
    expect(rec.terminated).toBe(1);
    expect(layer.size).toBe(0);
  });

  it('lets its request go once a 2xx puts it in Accepted (32 s of Timer M), still passing 2xx retransmissions up', () => {
    const { timers, transport, layer } = setup();
    const rec = new Recorder();
    const invite = request('INVITE');
    const tx = layer.sendRequest(invite, transport, peer, rec);
    expect(tx.request).toBe(invite);
    transport.deliver(reply(invite, 200), peer);
    expect(tx.state).toBe('accepted');
    expect(() => tx.request).toThrow(/no longer kept/u);
    transport.deliver(reply(invite, 200), peer);
    expect(rec.responses.map((r) => r.status)).toEqual([200, 200]);
    expect(sendTimes(timers, transport, 32_000)).toEqual([]);
    expect(tx.state).toBe('terminated');
  });

  it('stops retransmitting on 1xx, ACKs a non-2xx final, absorbs its retransmissions, ends after Timer D', () => {
    const { timers, transport, layer } = setup();
    const rec = new Recorder();
    const invite = request('INVITE');
    const tx = layer.sendRequest(invite, transport, peer, rec);
    transport.deliver(reply(invite, 180), peer);
    expect(tx.state).toBe('proceeding');
    expect(sendTimes(timers, transport, 10_000)).toEqual([]);
    transport.deliver(reply(invite, 486), peer);
    expect(tx.state).toBe('completed');
    const ack = transport.messages()[1];
    if (ack?.kind !== 'request') throw new Error('ACK expected');
    expect(ack.method).toBe('ACK');
    expect(ack.cseq).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.via).toHaveLength(1);
    expect(ack.via[0]?.branch).toBe('z9hG4bKclient1');
    expect(toTag(ack)).toBe('b1');
    transport.deliver(reply(invite, 486), peer);
    expect(transport.messages().filter((m) => m.kind === 'request' && m.method === 'ACK')).toHaveLength(2);
    expect(rec.responses.map((r) => r.status)).toEqual([180, 486]);
    timers.advance(32_000);
    expect(tx.state).toBe('terminated');
    expect(layer.size).toBe(0);
  });

  it('passes 2xx and its retransmissions up in Accepted, then ends with Timer M', () => {
    const { timers, transport, layer } = setup();
    const rec = new Recorder();
    const invite = request('INVITE');
    const tx = layer.sendRequest(invite, transport, peer, rec);
    transport.deliver(reply(invite, 200), peer);
    transport.deliver(reply(invite, 200), peer);
    expect(tx.state).toBe('accepted');
    expect(rec.responses.map((r) => r.status)).toEqual([200, 200]);
    expect(transport.sent).toHaveLength(1);
    timers.advance(32_000);
    expect(tx.state).toBe('terminated');
  });

  it('never retransmits over a reliable transport and ends at once after a non-2xx', () => {
    const { timers, transport, layer } = setup('TCP');
    const rec = new Recorder();
    const invite = request('INVITE');
    const tx = layer.sendRequest(invite, transport, peer, rec);
    expect(sendTimes(timers, transport, 10_000)).toEqual([]);
    transport.deliver(reply(invite, 503), peer);
    expect(tx.state).toBe('terminated');
    expect(rec.responses).toHaveLength(1);
  });

  it('ends on a transport error', async () => {
    const { transport, layer, flush } = setup();
    const rec = new Recorder();
    transport.failNextSend();
    const tx = layer.sendRequest(request('INVITE'), transport, peer, rec);
    await flush();
    expect(rec.errors).toHaveLength(1);
    expect(tx.state).toBe('terminated');
    expect(layer.size).toBe(0);
  });
});

describe('client non-INVITE transaction (§17.1.2)', () => {
  it('retransmits with Timer E capped at T2 and times out with Timer F', () => {
    const { timers, transport, layer } = setup();
    const rec = new Recorder();
    layer.sendRequest(request('OPTIONS'), transport, peer, rec);
    expect(sendTimes(timers, transport, 32_000)).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(rec.timeouts).toBe(1);
  });

  it('retransmits every T2 once Proceeding, then lingers T4 in Completed', () => {
    const { timers, transport, layer } = setup();
    const rec = new Recorder();
    const req = request('REGISTER');
    const tx = layer.sendRequest(req, transport, peer, rec);
    transport.deliver(reply(req, 100), peer);
    expect(sendTimes(timers, transport, 9000)).toEqual([500, 4500, 8500]);
    expect(tx.request).toBe(req);
    transport.deliver(reply(req, 200), peer);
    transport.deliver(reply(req, 200), peer);
    expect(rec.responses.map((r) => r.status)).toEqual([100, 200]);
    // Completed: nothing is sent again, the request is let go for the T4 it lingers.
    expect(() => tx.request).toThrow(/no longer kept/u);
    expect(sendTimes(timers, transport, 4900)).toEqual([]);
    expect(tx.state).toBe('completed');
    timers.advance(100);
    expect(tx.state).toBe('terminated');
  });
});

describe('server INVITE transaction (§17.2.1, RFC 6026)', () => {
  it('answers 100 after TRYING_DELAY_MS when the TU has not answered, resends the last provisional on retransmission', () => {
    const { timers, transport, user } = setup();
    transport.deliver(inbound('INVITE'), peer);
    expect(user.requests).toHaveLength(1);
    expect(transport.sent).toHaveLength(0);
    timers.advance(TRYING_DELAY_MS);
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual([100]);
    timers.advance(TRYING_DELAY_MS);
    expect(transport.sent).toHaveLength(1);
    const tx = user.requests[0]!.tx!;
    tx.respond(reply(user.requests[0]!.request, 180));
    transport.deliver(inbound('INVITE'), peer);
    expect(user.requests).toHaveLength(1);
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual([100, 180, 180]);
  });

  it('sends no 100 before an answer the TU gives at once (the 407 challenge): one datagram', () => {
    const { timers, transport, user } = setup();
    transport.deliver(inbound('INVITE'), peer);
    transport.deliver(inbound('INVITE', { branch: 'z9hG4bKphone2' }), peer);
    user.requests[0]!.tx!.respond(reply(user.requests[0]!.request, 407));
    timers.advance(TRYING_DELAY_MS);
    // The second INVITE, not answered yet, got its 100 in the same turn.
    expect(transport.messages().map((m) => m.kind === 'response' && [m.status, m.via[0]!.branch])).toEqual([
      [407, 'z9hG4bKphone1'],
      [100, 'z9hG4bKphone2'],
    ]);
  });

  it('sends no 100 when the TU relays a 180 within TRYING_DELAY_MS (§17.2.1: it answered within 200 ms)', () => {
    const { timers, transport, user } = setup();
    transport.deliver(inbound('INVITE'), peer);
    timers.advance(TRYING_DELAY_MS - 1);
    user.requests[0]!.tx!.respond(reply(user.requests[0]!.request, 180));
    timers.advance(1);
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual([180]);
  });

  it('answers a retransmitted INVITE with the 100 at once when none was sent yet', () => {
    const { timers, transport } = setup();
    transport.deliver(inbound('INVITE'), peer);
    transport.deliver(inbound('INVITE'), peer);
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual([100]);
    timers.advance(TRYING_DELAY_MS);
    expect(transport.sent).toHaveLength(1);
  });

  it('retransmits a non-2xx final with Timer G until the ACK, which is absorbed, then ends after Timer I', () => {
    const { timers, transport, user, layer } = setup();
    transport.deliver(inbound('INVITE'), peer);
    const { tx, request: invite } = user.requests[0]!;
    tx!.respond(reply(invite, 486));
    expect(() => tx!.request).toThrow(/no longer kept/);
    expect(sendTimes(timers, transport, 8000)).toEqual([500, 1500, 3500, 7500]);
    transport.deliver(inbound('ACK', { toTag: 'b1' }), peer);
    expect(tx!.state).toBe('confirmed');
    expect(user.requests).toHaveLength(1);
    expect(sendTimes(timers, transport, 5000)).toEqual([]);
    expect(tx!.state).toBe('terminated');
    expect(layer.size).toBe(0);
  });

  it('sends a 3xx–6xx given as bytes (responseBytes: the 407) as it is, resends it with Timer G, absorbs the ACK (issue #4)', () => {
    const { timers, transport, user, layer } = setup();
    transport.deliver(inbound('INVITE'), peer);
    const { tx, request: invite } = user.requests[0]!;
    expect(tx).toBeInstanceOf(ServerInviteTransaction);
    const itx = tx as ServerInviteTransaction;
    expect(() => itx.respondSerialized(200, new Uint8Array())).toThrow(RangeError);
    expect(() => itx.respondSerialized(180, new Uint8Array())).toThrow(RangeError);
    const bytes = responseBytes(invite, 407, { toTag: 'b1', headers: [{ name: 'Proxy-Authenticate', value: 'Digest realm="x", nonce="n"' }] })!;
    expect(Buffer.from(bytes).toString()).toBe(Buffer.from(serializeMessage(buildResponse(invite, 407, { toTag: 'b1', headers: [{ name: 'Proxy-Authenticate', value: 'Digest realm="x", nonce="n"' }] }))).toString());
    itx.respondSerialized(407, bytes);
    expect(() => tx!.request).toThrow(/no longer kept/);
    itx.respond(reply(invite, 500)); // Completed: a second final is ignored
    itx.respondSerialized(486, bytes);
    transport.deliver(inbound('INVITE'), peer); // a retransmission: the 407 again
    expect(sendTimes(timers, transport, 1600)).toEqual([500, 1500]);
    expect(transport.sent.map((s) => s.data)).toEqual([bytes, bytes, bytes, bytes]);
    transport.deliver(inbound('ACK', { toTag: 'b1' }), peer);
    expect(tx!.state).toBe('confirmed');
    expect(user.requests).toHaveLength(1);
    timers.advance(5000);
    expect(tx!.state).toBe('terminated');
    expect(layer.size).toBe(0);
  });

  it('times out with Timer H when no ACK comes', () => {
    const { timers, transport, user } = setup();
    transport.deliver(inbound('INVITE'), peer);
    const { tx, request: invite } = user.requests[0]!;
    let timedOut = false;
    tx!.delegate = { onTimeout: () => (timedOut = true) };
    tx!.respond(reply(invite, 404));
    expect(sendTimes(timers, transport, 32_000)).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(timedOut).toBe(true);
    expect(tx!.state).toBe('terminated');
  });

  it('in Accepted, absorbs INVITE retransmissions, passes the ACK of the 2xx up, ends with Timer L', () => {
    const { timers, transport, user } = setup();
    transport.deliver(inbound('INVITE'), peer);
    const { tx, request: invite } = user.requests[0]!;
    tx!.respond(reply(invite, 200));
    transport.deliver(inbound('INVITE'), peer);
    expect(transport.sent).toHaveLength(1);
    tx!.respond(reply(invite, 200));
    expect(transport.sent).toHaveLength(2);
    timers.advance(TRYING_DELAY_MS);
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual([200, 200]);
    transport.deliver(inbound('ACK', { toTag: 'b1' }), peer);
    expect(user.requests.map((r) => [r.request.method, r.tx])).toEqual([['INVITE', tx], ['ACK', undefined]]);
    timers.advance(32_000);
    expect(tx!.state).toBe('terminated');
  });

  it('finds the INVITE a CANCEL targets; the CANCEL has its own transaction', () => {
    const { transport, user, layer } = setup();
    transport.deliver(inbound('INVITE'), peer);
    transport.deliver(inbound('CANCEL'), peer);
    const [invite, cancel] = user.requests;
    expect(cancel?.tx).toBeDefined();
    expect(cancel?.tx).not.toBe(invite?.tx);
    expect(layer.findInviteFor(cancel!.request)).toBe(invite?.tx);
  });
});

describe('server non-INVITE transaction (§17.2.2)', () => {
  it('absorbs retransmissions while Trying, resends the final once Completed, ends after Timer J', () => {
    const { timers, transport, user } = setup();
    transport.deliver(inbound('REGISTER'), peer);
    transport.deliver(inbound('REGISTER'), peer);
    expect(user.requests).toHaveLength(1);
    expect(transport.sent).toHaveLength(0);
    const { tx, request: register } = user.requests[0]!;
    expect(tx!.request).toBe(register);
    tx!.respond(reply(register, 200));
    // Only the serialized final is kept while it lingers (memory per answered REGISTER).
    expect(() => tx!.request).toThrow(/no longer kept/);
    transport.deliver(inbound('REGISTER'), peer);
    expect(transport.sent).toHaveLength(2);
    timers.advance(31_999);
    expect(tx!.state).toBe('completed');
    timers.advance(1);
    expect(tx!.state).toBe('terminated');
  });

  it('sends and resends a response given as bytes (responseBytes) as it is, then ends after Timer J (issue #4)', () => {
    const { timers, transport, user } = setup();
    transport.deliver(inbound('REGISTER'), peer);
    const { tx, request: register } = user.requests[0]!;
    const bytes = responseBytes(register, 401, { toTag: 'T9' })!;
    expect(tx).toBeInstanceOf(ServerNonInviteTransaction);
    (tx as ServerNonInviteTransaction).respondSerialized(401, bytes);
    expect(() => tx!.request).toThrow(/no longer kept/);
    tx!.respond(reply(register, 500)); // Completed: a second final is ignored
    transport.deliver(inbound('REGISTER'), peer);
    expect(transport.sent.map((s) => s.data)).toEqual([bytes, bytes]);
    timers.advance(32_000);
    expect(tx!.state).toBe('terminated');
  });

  it('ends at once over a reliable transport', () => {
    const { transport, user } = setup('TCP');
    transport.deliver(inbound('OPTIONS', { via: 'Via: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKtcp' }), peer);
    const { tx, request: options } = user.requests[0]!;
    tx!.respond(reply(options, 200));
    expect(tx!.state).toBe('terminated');
  });
});

describe('lingering transactions (the last timers D, I, J, K, L, M; issue #4)', () => {
  it('share one timer per duration, and each still ends exactly its own 32 s after its answer (also past the queue compaction)', () => {
    const { timers, transport, user, layer } = setup();
    const n = 3000;
    for (let i = 0; i < n; i++) {
      transport.deliver(inbound('OPTIONS', { branch: `z9hG4bKq${i}` }), peer);
      const { tx, request } = user.requests.at(-1)!;
      tx!.respond(reply(request, 200));
      timers.advance(10); // answered at 10 ms intervals
    }
    // 3 000 transactions waiting out Timer J: one timer for all of them, not one each.
    expect(layer.size).toBe(n);
    expect(timers.size).toBe(1);
    const sentBefore = transport.sent.length;
    // The clock is now 30 000 ms; the i-th was answered at 10·i ms and ends at 10·i + 32 000 ms.
    timers.advance(2_000 + 10 * 1500 - 1); // 1 ms before the 1 500th's end
    expect(layer.size).toBe(n - 1500);
    transport.deliver(inbound('OPTIONS', { branch: 'z9hG4bKq1500' }), peer);
    expect(transport.sent.length).toBe(sentBefore + 1); // still absorbed: its 200 again
    timers.advance(1);
    expect(layer.size).toBe(n - 1501);
    transport.deliver(inbound('OPTIONS', { branch: 'z9hG4bKq1500' }), peer);
    expect(user.requests).toHaveLength(n + 1); // ended: a new request for the TU
    user.requests.at(-1)!.tx!.respond(reply(user.requests.at(-1)!.request, 200));
    timers.advance(10 * 1500 + 32_000);
    expect(layer.size).toBe(0);
    expect(timers.size).toBe(0);
  });

  it('under pressure, the transaction let go first is the one that began to wait first, whatever its timer (I or J)', () => {
    for (const invitesFirst of [true, false]) {
      const { timers, transport, user } = setup();
      transport.delegate = new TransactionLayer({ user, timers, maxServerTransactions: 1 }); // bound: 10
      const waiting = (method: 'INVITE' | 'OPTIONS', i: number): ServerTransaction => {
        transport.deliver(inbound(method, { branch: `z9hG4bK${method}${i}` }), peer);
        const { tx, request } = user.requests.at(-1)!;
        tx!.respond(reply(request, method === 'INVITE' ? 486 : 200));
        if (method === 'INVITE') transport.deliver(inbound('ACK', { branch: `z9hG4bK${method}${i}` }), peer); // Confirmed: Timer I
        timers.advance(10);
        return tx!;
      };
      const order: ('INVITE' | 'OPTIONS')[] = invitesFirst ? ['INVITE', 'OPTIONS'] : ['OPTIONS', 'INVITE'];
      const txs = order.flatMap((m) => [0, 1, 2, 3, 4].map((i) => waiting(m, i)));
      const waitState = { INVITE: 'confirmed', OPTIONS: 'completed' } as const;
      expect(txs.map((t) => t.state)).toEqual(order.flatMap((m) => Array<string>(5).fill(waitState[m])));
      transport.deliver(inbound('OPTIONS', { branch: 'z9hG4bKnew' }), peer); // the 11th: the oldest waiting one goes
      expect(txs.map((t) => t.state === 'terminated')).toEqual([true, ...Array<boolean>(9).fill(false)]);
      expect(user.requests.at(-1)!.request.via[0]!.branch).toBe('z9hG4bKnew');
    }
  });

  it('a transaction ended before its time (a transport error) is skipped when its time comes, and ends only once', () => {
    const { timers, transport, user, layer } = setup();
    transport.deliver(inbound('INVITE', { branch: 'z9hG4bKearly' }), peer);
    const { tx, request } = user.requests[0]!;
    const events: string[] = [];
    tx!.delegate = { onTransportError: () => events.push('error'), onTerminated: () => events.push('terminated') };
    tx!.respond(reply(request, 200)); // Accepted: Timer L
    expect(layer.size).toBe(1);
    transport.failNextSend();
    transport.deliver(inbound('INVITE', { branch: 'z9hG4bKearly' }), peer); // absorbed, nothing sent in Accepted
    (tx as ServerInviteTransaction).respond(reply(request, 200)); // the TU resends its 2xx: the send fails
    return new Promise<void>((r) => setImmediate(r)).then(() => {
      expect(events).toEqual(['error', 'terminated']);
      expect(layer.size).toBe(0);
      timers.advance(32_000);
      expect(events).toEqual(['error', 'terminated']);
      expect(timers.size).toBe(0);
    });
  });
});

describe('matching and routing', () => {
  it('sends a response no transaction wants to the transaction user', () => {
    const { transport, user, layer } = setup();
    const invite = request('INVITE');
    layer.sendRequest(invite, transport, peer, new Recorder());
    transport.deliver(reply(request('INVITE', 'z9hG4bKother'), 200), peer);
    expect(user.strays).toHaveLength(1);
  });

  it('keeps a CANCEL response apart from the INVITE with the same branch', () => {
    const { transport, layer } = setup();
    const invite = request('INVITE');
    const inviteRec = new Recorder();
    const cancelRec = new Recorder();
    layer.sendRequest(invite, transport, peer, inviteRec);
    const cancel = buildCancel(invite);
    layer.sendRequest(cancel, transport, peer, cancelRec);
    transport.deliver(reply(cancel, 200), peer);
    expect(cancelRec.responses).toHaveLength(1);
    expect(inviteRec.responses).toHaveLength(0);
  });

  it('matches RFC 2543 requests without a magic cookie branch', () => {
    const { transport, user } = setup();
    const old = { via: 'Via: SIP/2.0/UDP 198.51.100.7:5060' };
    transport.deliver(inbound('INVITE', old), peer);
    transport.deliver(inbound('INVITE', old), peer);
    const bare = { via: 'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK' };
    transport.deliver(inbound('OPTIONS', bare), peer);
    expect(user.requests.map((r) => r.request.method)).toEqual(['INVITE', 'OPTIONS']);
  });

  it('answers to the source port when the Via asks for rport (RFC 3581), stamping received', () => {
    const { transport, user } = setup();
    const nat = { address: '203.0.113.9', port: 40_000 };
    transport.deliver(inbound('OPTIONS', { via: 'Via: SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bKnat' }), nat);
    const { tx, request: options } = user.requests[0]!;
    expect(options.via[0]).toMatchObject({ received: '203.0.113.9', rport: 40_000 });
    tx!.respond(reply(options, 200));
    expect(transport.sent[0]?.destination).toEqual(nat);
    expect(transport.messages()[0]?.via[0]).toMatchObject({ received: '203.0.113.9', rport: 40_000 });
  });

  it('sheds load with a stateless 503 past the server transaction limit', () => {
    const timers = new ManualTimers();
    const transport = new FakeTransport();
    const user = new User();
    transport.delegate = new TransactionLayer({ user, timers, maxServerTransactions: 2 });
    for (const b of ['z9hG4bKa', 'z9hG4bKb', 'z9hG4bKc']) transport.deliver(inbound('OPTIONS', { branch: b }), peer);
    expect(user.requests).toHaveLength(2);
    const busy = transport.messages()[0];
    expect(busy?.kind === 'response' && [busy.status, busy.via[0]?.branch]).toEqual([503, 'z9hG4bKc']);
  });

  it('does not count answered transactions (absorbing retransmissions) against that limit', () => {
    const timers = new ManualTimers();
    const transport = new FakeTransport();
    const user = new User();
    transport.delegate = new TransactionLayer({ user, timers, maxServerTransactions: 2 });
    for (const b of ['z9hG4bKa', 'z9hG4bKb']) transport.deliver(inbound('OPTIONS', { branch: b }), peer);
    for (const { tx, request } of user.requests) tx!.respond(reply(request, 200));
    transport.deliver(inbound('OPTIONS', { branch: 'z9hG4bKc' }), peer);
    expect(user.requests).toHaveLength(3);
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual([200, 200]);
  });

  it('past ten times that limit, lets the oldest lingering transactions go early rather than refusing new requests', () => {
    const timers = new ManualTimers();
    const transport = new FakeTransport();
    const user = new User();
    transport.delegate = new TransactionLayer({ user, timers, maxServerTransactions: 2 });
    const branches = Array.from({ length: 25 }, (_, i) => `z9hG4bKlinger${i}`);
    for (const b of branches) {
      transport.deliver(inbound('OPTIONS', { branch: b }), peer);
      const { tx, request } = user.requests.at(-1)!;
      tx!.respond(reply(request, 200)); // answered: lingers (Timer J never fires with manual timers)
    }
    expect(user.requests).toHaveLength(25); // no 503: the 21st arrival let the oldest go, down to 18
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual(Array(25).fill(200));
    // The newest still absorbs its retransmission (the 200 again); the oldest was let go (the TU hears it anew).
    transport.deliver(inbound('OPTIONS', { branch: branches[24] }), peer);
    expect(user.requests).toHaveLength(25);
    expect(transport.messages()).toHaveLength(26);
    transport.deliver(inbound('OPTIONS', { branch: branches[0] }), peer);
    expect(user.requests).toHaveLength(26);
  });

  it('still refuses with a 503 when none of those past the bound is merely lingering (failures awaiting their ACK)', () => {
    const timers = new ManualTimers();
    const transport = new FakeTransport();
    const user = new User();
    transport.delegate = new TransactionLayer({ user, timers, maxServerTransactions: 2 });
    for (let i = 0; i < 20; i++) {
      transport.deliver(inbound('INVITE', { branch: `z9hG4bKbusy${i}` }), peer);
      const { tx, request } = user.requests.at(-1)!;
      tx!.respond(reply(request, 486)); // Completed: retransmits its 486 until the ACK (Timer G/H)
    }
    transport.deliver(inbound('OPTIONS', { branch: 'z9hG4bKone-too-many' }), peer);
    expect(user.requests).toHaveLength(20);
    const last = transport.messages().at(-1);
    expect(last?.kind === 'response' && [last.status, last.via[0]?.branch]).toEqual([503, 'z9hG4bKone-too-many']);
  });

  /** A `method` request answered statelessly with `status`, then 40 s of timers: what the layer kept and what was sent. */
  const statelessly = (method: string, status: number) => {
    const rig = setup();
    rig.transport.deliver(inbound(method), peer);
    const { tx, request } = rig.user.requests[0]!;
    tx!.respondStatelessly(status, serializeMessage(reply(request, status)));
    const kept = rig.layer.size;
    rig.timers.advance(40_000);
    return { ...rig, request, kept, statuses: rig.transport.messages().map((m) => m.kind === 'response' && m.status) };
  };

  it('answers a challenge statelessly (RFC 3261 §8.2.7): sent once, nothing kept, a retransmission is a new request', () => {
    const { transport, user, request, kept, statuses } = statelessly('REGISTER', 401);
    expect(kept).toBe(0);
    expect(statuses).toEqual([401]); // never resent
    transport.deliver(inbound('REGISTER'), peer); // the same request again: the TU answers it anew
    expect(user.requests).toHaveLength(2);
    expect(user.requests[1]!.tx).toBeDefined();
    expect(() => user.requests[1]!.tx!.respondStatelessly(200, serializeMessage(reply(request, 200)))).toThrow(RangeError);
  });

  it('sends an INVITE\'s 407 once and forgets it: no retransmission, its ACK goes to the TU (which ignores it)', () => {
    const { transport, user, kept, statuses } = statelessly('INVITE', 407);
    expect(kept).toBe(0);
    expect(statuses).toEqual([407]); // no 100 Trying, no Timer G
    transport.deliver(inbound('ACK', { cseqMethod: 'ACK', toTag: 'ch1' }), peer);
    expect(user.requests.map((r) => [r.request.method, r.tx === undefined])).toEqual([['INVITE', false], ['ACK', true]]);
  });

  it('is stateful after all once the INVITE\'s 100 Trying went out (a stateless UAS sends no provisional response)', () => {
    const { timers, transport, user, layer } = setup();
    transport.deliver(inbound('INVITE'), peer);
    const { tx, request } = user.requests[0]!;
    timers.advance(TRYING_DELAY_MS);
    tx!.respondStatelessly(486, serializeMessage(reply(request, 486)));
    expect(layer.size).toBe(1);
    timers.advance(600); // Timer G: the 486 again until the ACK
    expect(transport.messages().map((m) => m.kind === 'response' && m.status)).toEqual([100, 486, 486]);
  });

  it('answers an unparsable but answerable request with 400', () => {
    const { transport, user } = setup();
    transport.deliver(inbound('OPTIONS', { cseqMethod: 'INVITE' }), peer);
    expect(user.requests).toHaveLength(0);
    const sent = parseMessage(transport.sent[0]!.data);
    expect(sent.ok && sent.message.kind === 'response' && sent.message.status).toBe(400);
    expect(transport.sent[0]?.destination).toEqual(peer);
  });
});

describe('transaction layer under fuzzing', () => {
  const fixtures = ['valid', 'invalid', 'semantic'].flatMap((d) => {
    const dir = new URL(`../../test/fixtures/sip/${d}/`, import.meta.url);
    return readdirSync(dir).map((f) => readFileSync(new URL(f, dir)));
  });
  const generated = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER'].flatMap((m) => [inbound(m), inbound(m, { toTag: 'b1' })]);
  const step = fc.oneof(
    fc.record({ kind: fc.constant('deliver' as const), data: fc.constantFrom(...fixtures, ...generated.map((g) => Buffer.from(g))) }),
    fc.record({ kind: fc.constant('respond' as const), status: fc.constantFrom(100, 180, 200, 302, 404, 486, 503) }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
    fc.record({ kind: fc.constant('send' as const), method: fc.constantFrom('INVITE', 'OPTIONS'), status: fc.constantFrom(100, 200, 486) }),
  );

  it('never throws, and every transaction ends once time runs out', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.constantFrom<TransportProtocol>('UDP', 'TCP'), (steps, protocol) => {
        const { timers, transport, user, layer } = setup(protocol);
        let n = 0;
        const sent: SipRequest[] = [];
        for (const s of steps) {
          if (s.kind === 'deliver') transport.deliver(s.data, peer);
          else if (s.kind === 'advance') timers.advance(s.ms);
          else if (s.kind === 'respond') {
            for (const { request: r, tx } of user.requests) if (r.method !== 'ACK') tx?.respond(buildResponse(r, s.status, { toTag: 'b1' }));
          } else {
            const req = request(s.method, `z9hG4bKfuzz${n++}`);
            layer.sendRequest(req, transport, peer, new Recorder());
            transport.deliver(reply(req, s.status), peer);
            sent.push(req);
          }
        }
        // An INVITE in Proceeding waits for its TU (§17.1.1.2): end each with a final response.
        for (const req of sent) transport.deliver(reply(req, 487), peer);
        for (const { request: r, tx } of user.requests) if (r.method !== 'ACK') tx?.respond(buildResponse(r, 500, { toTag: 'b1' }));
        timers.advance(300_000);
        expect(layer.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('transaction timers (two per transaction at most, §17)', () => {
  it('cancels the timers a state leaves and keeps none after Terminated', () => {
    const { timers, transport, layer, flush } = setup();
    const rec = new Recorder();
    const invite = request('INVITE');
    layer.sendRequest(invite, transport, peer, rec);
    expect(timers.size).toBe(2); // A and B
    transport.deliver(reply(invite, 407));
    expect(timers.size).toBe(1); // D only: A and B cancelled
    timers.advance(32_000);
    expect([timers.size, layer.size, rec.terminated]).toEqual([0, 0, 1]);

    const bye = request('BYE', 'z9hG4bKclient2');
    layer.sendRequest(bye, transport, peer, rec);
    timers.advance(500); // E fired once and was started again beside F
    expect(timers.size).toBe(2);
    transport.deliver(reply(bye, 200));
    expect(timers.size).toBe(1); // K
    timers.advance(5_000);
    expect([timers.size, layer.size]).toEqual([0, 0]);
    return flush();
  });

  it('runs G and H beside each other on a server INVITE, then I alone after the ACK', async () => {
    const { timers, transport, user, layer, flush } = setup();
    transport.deliver(inbound('INVITE'));
    await flush();
    const tx = user.requests[0]!.tx!;
    tx.respond(buildResponse(user.requests[0]!.request, 486, { toTag: 't1' }));
    timers.advance(TRYING_DELAY_MS); // the 100 Trying window closes: nothing owed
    expect(timers.size).toBe(2); // G and H
    timers.advance(1_400); // G fired at 500 and 1 500 ms, started again each time
    expect(timers.size).toBe(2);
    transport.deliver(inbound('ACK', { toTag: 't1' }));
    expect(timers.size).toBe(1); // I
    timers.advance(5_000);
    expect([timers.size, layer.size]).toEqual([0, 0]);
  });
});
