import { Socket as DgramSocket, createSocket } from 'node:dgram';
import { type Socket, connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { type MockInstance, afterEach, describe, expect, it, vi } from 'vitest';
import { replyToParseError } from './builders.ts';
import type { SipMessage } from './message.ts';
import type { ParseError } from './parser.ts';
import { TcpTransport } from './tcp.ts';
import { type Source, type Transport, type TransportDelegate, postOn } from './transport.ts';
import { UDP_RECEIVE_BUFFER, UdpTransport, literalFirstLookup } from './udp.ts';
import { ThreadedUdpTransport } from './udp-thread.ts';

const options = (branch: string, body = ''): Buffer =>
  Buffer.from(
    [
      'OPTIONS sip:bob@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK${branch}`,
      'Max-Forwards: 70',
      'To: <sip:bob@127.0.0.1>',
      'From: <sip:alice@127.0.0.1>;tag=1',
      `Call-ID: ${branch}`,
      'CSeq: 1 OPTIONS',
      `Content-Length: ${body.length}`,
      '',
      body,
    ].join('\r\n'),
  );

type Event = { kind: 'message'; message: SipMessage; source: Source } | { kind: 'error'; error: ParseError; source: Source } | { kind: 'transport'; reason: string };

/** A delegate that queues what it receives, for `next()` to await. */
class Inbox implements TransportDelegate {
  private events: Event[] = [];
  private waiters: ((e: Event) => void)[] = [];
  private push(e: Event): void {
    const w = this.waiters.shift();
    if (w) w(e);
    else this.events.push(e);
  }
  onMessage(message: SipMessage, source: Source): void {
    this.push({ kind: 'message', message, source });
  }
  onParseError(error: ParseError, source: Source): void {
    this.push({ kind: 'error', error, source });
  }
  onTransportError(reason: string): void {
    this.push({ kind: 'transport', reason });
  }
  next(): Promise<Event> {
    const e = this.events.shift();
    return e ? Promise.resolve(e) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

const open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
const track = <T extends Transport>(t: T): T => {
  open.push(t);
  return t;
};

describe.each([
  ['UdpTransport', UdpTransport],
  ['ThreadedUdpTransport (the socket in a thread of its own)', ThreadedUdpTransport],
] as const)('%s', (_, Udp) => {
  it('exchanges messages between two transports and reports the source', async () => {
    const inboxA = new Inbox();
    const inboxB = new Inbox();
    const a = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inboxA }));
    const b = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inboxB }));
    await a.send(options('u1'), b.local);
    const e = await inboxB.next();
    expect(e.kind === 'message' && e.message.callId).toBe('u1');
    expect(e.kind === 'message' && e.source.remote).toEqual(a.local);
    await b.send(options('u2'), a.local);
    expect((await inboxA.next()).kind).toBe('message');
  });

  it('resolves an IP literal within the call (no resolver hop before the send) and a host name through dns.lookup', async () => {
    const got: [string, number][] = [];
    literalFirstLookup('127.0.0.1', 4, (err, address, family) => got.push([String(err ?? address), family]));
    literalFirstLookup('::1', 6, (err, address, family) => got.push([String(err ?? address), family]));
    expect(got).toEqual([['127.0.0.1', 4], ['::1', 6]]);
    const byName = new Promise<string>((resolve) => literalFirstLookup('localhost', 4, (err, address) => resolve(String(err ?? address))));
    expect(got).toHaveLength(2);
    expect(await byName).toBe('127.0.0.1');
    // And the transport sends by name too.
    const inbox = new Inbox();
    const server = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    await client.send(options('u4'), { address: 'localhost', port: server.local.port });
    const e = await inbox.next();
    expect(e.kind === 'message' && e.message.callId).toBe('u4');
  });

  it('hands parse errors up with the source, so the layer above can answer 400', async () => {
    const inbox = new Inbox();
    const server = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    const reply = new Promise<Buffer>((r) => client.once('message', r));
    client.send(Buffer.from(options('bad').toString().replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE')), server.local.port, '127.0.0.1');
    const e = await inbox.next();
    if (e.kind !== 'error') throw new Error('parse error expected');
    expect(e.error.reason).toMatch(/CSeq/u);
    await server.send(replyToParseError(e.error)!, e.source.remote);
    expect((await reply).toString()).toMatch(/^SIP\/2\.0 400 /u);
    client.close();
  });

  it('asks the kernel for a large receive buffer, so that a burst during a busy event loop is not dropped', async () => {
    const small = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox(), receiveBufferBytes: 100_000 }));
    const large = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox(), receiveBufferBytes: 300_000 }));
    const byDefault = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    // Any Linux allows 208 KiB (the default rmem_max) and reports twice what it grants.
    expect(small.receiveBufferBytes).toBeGreaterThanOrEqual(100_000);
    expect(large.receiveBufferBytes).toBeGreaterThan(small.receiveBufferBytes);
    expect(UDP_RECEIVE_BUFFER).toBeGreaterThan(300_000);
    expect(byDefault.receiveBufferBytes).toBeGreaterThanOrEqual(large.receiveBufferBytes);
  });

  it('drops keep-alives and oversized datagrams silently', async () => {
    const inbox = new Inbox();
    const server = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inbox, maxDatagramSize: 1000 }));
    const client = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    await client.send(Buffer.from('\r\n\r\n'), server.local);
    await client.send(options('big', 'x'.repeat(2000)), server.local);
    await client.send(options('small'), server.local);
    const e = await inbox.next();
    expect(e.kind === 'message' && e.message.callId).toBe('small');
    await expect(server.send(Buffer.alloc(1001), client.local)).rejects.toThrow(RangeError);
  });

  it('posts without a promise: the datagram arrives and `done` hears null, on a later tick', async () => {
    const inbox = new Inbox();
    const server = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    const outcomes: (Error | null)[] = [];
    client.post(options('posted'), server.local, (e) => outcomes.push(e));
    expect(outcomes).toEqual([]); // never from within the call
    const e = await inbox.next();
    expect(e.kind === 'message' && e.message.callId).toBe('posted');
    await vi.waitFor(() => expect(outcomes).toEqual([null]));
  });

  it('still sends what was handed over before a close (a final answer is not lost)', async () => {
    const inbox = new Inbox();
    const server = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() });
    const outcomes: (Error | null)[] = [];
    client.post(options('last-words'), server.local, (e) => outcomes.push(e));
    await client.close();
    const e = await inbox.next();
    expect(e.kind === 'message' && e.message.callId).toBe('last-words');
    await expect(client.send(options('too-late'), server.local)).rejects.toThrow(/closed/u);
  });

  it('posts an oversized datagram nowhere and hands the RangeError to `done` on the next tick', async () => {
    const server = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox(), maxDatagramSize: 1000 }));
    const outcomes: (Error | null)[] = [];
    server.post(Buffer.alloc(1001), { address: '127.0.0.1', port: 9 }, (e) => outcomes.push(e));
    expect(outcomes).toEqual([]);
    await new Promise((r) => process.nextTick(r));
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toBeInstanceOf(RangeError);
  });

  it('posts on a closed socket: `done` hears the error on the next tick, nothing is thrown', async () => {
    const server = await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() });
    await server.close();
    const outcomes: (Error | null)[] = [];
    expect(() => server.post(options('late'), { address: '127.0.0.1', port: 9 }, (e) => outcomes.push(e))).not.toThrow();
    expect(outcomes).toEqual([]);
    await new Promise((r) => process.nextTick(r));
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toBeInstanceOf(Error);
  });

  it('postOn falls back to `send` for a transport without `post`, errors included', async () => {
    const failing: Transport = { protocol: 'TCP', reliable: true, local: { address: '127.0.0.1', port: 1 }, send: () => Promise.reject(new Error('refused')), close: () => Promise.resolve() };
    const ok: Transport = { ...failing, send: () => Promise.resolve() };
    const outcomes: (string | null)[] = [];
    postOn(failing, Buffer.from('x'), { address: '127.0.0.1', port: 2 }, (e) => outcomes.push(e?.message ?? null));
    postOn(ok, Buffer.from('x'), { address: '127.0.0.1', port: 2 }, (e) => outcomes.push(e?.message ?? null));
    await vi.waitFor(() => expect(outcomes).toHaveLength(2));
    expect(outcomes.sort()).toEqual([null, 'refused'].sort());
  });
});

describe.each([
  ['UdpTransport: a `send` per datagram, back to back (one wake-up of the receiver)', UdpTransport, (): MockInstance => vi.spyOn(DgramSocket.prototype, 'send'), 200],
  ['ThreadedUdpTransport: ONE message to the socket thread for the whole turn', ThreadedUdpTransport, (): MockInstance => vi.spyOn(Worker.prototype, 'postMessage'), 1],
] as const)('%s', (_, Udp, spyOnLeaving, leavingCalls) => {
  it('the datagrams of one turn leave together after it, in the order they were handed over', async () => {
    const inbox = new Inbox();
    const server = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = track(await Udp.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    const leaving = spyOnLeaving();
    try {
      const outcomes: (Error | null)[] = [];
      for (let i = 0; i < 199; i++) client.post(options(`turn-${i}`), server.local, (e) => outcomes.push(e));
      const promised = client.send(options('turn-199'), server.local);
      expect(leaving).not.toHaveBeenCalled(); // nothing leaves within the turn
      await new Promise((r) => setImmediate(r));
      expect(leaving).toHaveBeenCalledTimes(leavingCalls); // all of them at the end of it
      await promised;
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) {
        const e = await inbox.next();
        if (e.kind === 'message') ids.push(e.message.callId);
      }
      expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => `turn-${i}`));
      await vi.waitFor(() => expect(outcomes).toHaveLength(199));
      expect(outcomes.every((o) => o === null)).toBe(true);
    } finally {
      leaving.mockRestore();
    }
  });
});

describe('ThreadedUdpTransport only', () => {
  it('reports a failed send to its own `done`, the others of the batch to theirs', async () => {
    const inbox = new Inbox();
    const server = track(await ThreadedUdpTransport.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = track(await ThreadedUdpTransport.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    const outcomes: (string | null)[] = [];
    client.post(options('before'), server.local, (e) => outcomes.push(e === null ? null : 'before failed'));
    client.post(options('nowhere'), { address: '127.0.0.1', port: 0 }, (e) => outcomes.push(e === null ? 'sent?' : String((e as Error & { code?: string }).code)));
    client.post(options('after'), server.local, (e) => outcomes.push(e === null ? null : 'after failed'));
    await vi.waitFor(() => expect(outcomes).toHaveLength(3));
    expect(outcomes).toEqual([null, 'ERR_SOCKET_BAD_PORT', null]);
    const got = [await inbox.next(), await inbox.next()].map((e) => (e.kind === 'message' ? e.message.callId : e.kind));
    expect(got).toEqual(['before', 'after']);
  });

  it('drops what arrives while the SIP thread is more than `backlogBytes` behind, counts it, then takes datagrams again', async () => {
    const inbox = new Inbox();
    const server = track(await ThreadedUdpTransport.listen({ host: '127.0.0.1', port: 0, delegate: inbox, backlogBytes: 2000 }));
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 50; i++) client.send(options(`flood-${String(i).padStart(2, '0')}`), server.local.port, '127.0.0.1');
    const until = Date.now() + 300;
    while (Date.now() < until); // this thread busy: the socket's thread reads all 50 meanwhile
    const delivered: string[] = [];
    let reported = '';
    while (delivered.length + server.droppedDatagrams < 50) {
      const e = await inbox.next();
      if (e.kind === 'message') delivered.push(e.message.callId);
      else if (e.kind === 'transport') reported = e.reason;
    }
    // The socket's thread reads the 50 in one go, far faster than they are handled here: once
    // 2 000 bytes wait (a busy machine may let this thread handle a batch in between), the rest drop.
    expect(server.droppedDatagrams).toBeGreaterThan(0);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered).toEqual([...delivered].sort()); // the first ones, in order
    expect(server.droppedDatagrams).toBe(50 - delivered.length);
    expect(reported).toMatch(/dropped/u);
    // Caught up: the next datagram is taken.
    client.send(options('after-the-flood'), server.local.port, '127.0.0.1');
    let next = await inbox.next();
    while (next.kind !== 'message') next = await inbox.next();
    expect(next.message.callId).toBe('after-the-flood');
    client.close();
  });

  it('hands a burst over `turnDatagrams` at a time: the event loop polls (a database reply) between them, all arrive in order', async () => {
    const received: string[] = [];
    let atFirstTurnEnd = -1;
    const delegate: TransportDelegate = {
      onMessage(message) {
        if (received.length === 0) setImmediate(() => (atFirstTurnEnd = received.length));
        received.push(message.callId);
      },
      onParseError() {},
    };
    const server = track(await ThreadedUdpTransport.listen({ host: '127.0.0.1', port: 0, delegate, turnDatagrams: 5 }));
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    const names = Array.from({ length: 30 }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
    for (const name of names) client.send(options(name), server.local.port, '127.0.0.1');
    const until = Date.now() + 300;
    while (Date.now() < until); // this thread busy: the socket's thread reads the 30 meanwhile
    await vi.waitFor(() => expect(received).toHaveLength(30));
    expect(received).toEqual(names);
    expect(atFirstTurnEnd).toBe(5); // all 30 in that turn before (issue #4)
    client.close();
  });

  it('drops the datagrams not yet handed over when it closes', async () => {
    const received: string[] = [];
    const delegate: TransportDelegate = {
      onMessage(message) {
        received.push(message.callId);
        if (received.length === 3) void server.close();
      },
      onParseError() {},
    };
    const server = await ThreadedUdpTransport.listen({ host: '127.0.0.1', port: 0, delegate, turnDatagrams: 2 });
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 10; i++) client.send(options(`late-${i}`), server.local.port, '127.0.0.1');
    const until = Date.now() + 300;
    while (Date.now() < until);
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(3));
    await server.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual(['late-0', 'late-1', 'late-2']);
    client.close();
  });

  it('refuses to listen on a port already taken, naming the error', async () => {
    const first = track(await ThreadedUdpTransport.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    await expect(ThreadedUdpTransport.listen({ host: '127.0.0.1', port: first.local.port, delegate: new Inbox() })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('tells the delegate when the socket thread is gone, and fails the sends not reported', async () => {
    const inbox = new Inbox();
    const server = await ThreadedUdpTransport.listen({ host: '127.0.0.1', port: 0, delegate: inbox });
    await (server as unknown as { worker: Worker }).worker.terminate();
    const e = await inbox.next();
    expect(e.kind === 'transport' && e.reason).toMatch(/socket's thread/u);
    await expect(server.send(options('late'), { address: '127.0.0.1', port: 9 })).rejects.toThrow(/closed/u);
    await server.close();
  });
});


const connectTo = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
const read = (s: Socket): Promise<string> => new Promise((resolve) => s.once('data', (d) => resolve(d.toString())));
const closed = (s: Socket): Promise<void> => new Promise((resolve) => s.once('close', () => resolve()));

describe('TcpTransport', () => {
  it('frames messages from a stream and answers through the same connection', async () => {
    const inbox = new Inbox();
    const server = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = await connectTo(server.local.port);
    const whole = Buffer.concat([options('t1', 'hello'), options('t2')]);
    client.write(whole.subarray(0, 50));
    client.write(whole.subarray(50));
    const first = await inbox.next();
    const second = await inbox.next();
    expect(first.kind === 'message' && Buffer.from(first.message.body).toString()).toBe('hello');
    expect(second.kind === 'message' && second.message.callId).toBe('t2');
    if (first.kind !== 'message') return;
    const got = read(client);
    await server.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), first.source.remote);
    expect(await got).toContain('200 OK');
    expect(server.connectionCount).toBe(1);
    client.destroy();
  });

  it('answers a CRLFCRLF ping with CRLF (RFC 5626)', async () => {
    const server = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    const client = await connectTo(server.local.port);
    const pong = read(client);
    client.write('\r\n\r\n');
    expect(await pong).toBe('\r\n');
    client.destroy();
  });

  it('reuses one connection per remote address for outbound sends', async () => {
    const inbox = new Inbox();
    const server = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: inbox }));
    const client = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    await Promise.all([client.send(options('r1'), server.local), client.send(options('r2'), server.local)]);
    await client.send(options('r3'), server.local);
    const ids = [await inbox.next(), await inbox.next(), await inbox.next()].map((e) => (e.kind === 'message' ? e.message.callId : e.kind));
    expect(ids.sort()).toEqual(['r1', 'r2', 'r3']);
    expect(client.connectionCount).toBe(1);
    expect(server.connectionCount).toBe(1);
  });

  it('closes a connection that breaks framing or exceeds the buffer limit', async () => {
    const inbox = new Inbox();
    const server = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: inbox, maxMessageSize: 2048 }));
    const noLength = await connectTo(server.local.port);
    const gone = closed(noLength);
    noLength.write('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n');
    expect(await inbox.next()).toMatchObject({ kind: 'transport', reason: expect.stringMatching(/Content-Length/u) as unknown });
    await gone;
    const flood = await connectTo(server.local.port);
    const floodGone = closed(flood);
    flood.write(Buffer.alloc(3000, 'a'));
    expect(await inbox.next()).toMatchObject({ kind: 'transport' });
    await floodGone;
  });

  it('closes idle connections', async () => {
    const server = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox(), idleTimeoutMs: 100 }));
    const client = await connectTo(server.local.port);
    await closed(client);
    await vi.waitFor(() => expect(server.connectionCount).toBe(0));
  });

  it('rejects a send to a port where nobody listens', async () => {
    const client = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    const probe = track(await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate: new Inbox() }));
    const port = probe.local.port;
    await probe.close();
    open.splice(open.indexOf(probe), 1);
    await expect(client.send(options('x'), { address: '127.0.0.1', port })).rejects.toThrow();
  });
});
