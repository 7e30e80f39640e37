/**
 * A flood of malformed SIP over real sockets (UDP datagrams and TCP connections
 * from Node): random bytes, truncated heads, bad and missing Content-Length,
 * huge headers, broken request lines, mutated copies of a valid REGISTER. The
 * server must not crash (it runs in this process), keep no state for it (no
 * transaction, every flood connection released: the process's TCP handles come
 * back to what they were) and still answer sipp: OPTIONS and a digest REGISTER,
 * over UDP and over TCP. The garbage is reproducible (seeded). Every wait is bounded.
 */
import { createSocket } from 'node:dgram';
import { type Socket, connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { activeBindings } from '../../src/telephony/location.ts';
import { type InteropServer, SCENARIOS, addInteropUser, has, sipp, startInteropServer, waitFor } from './helpers.ts';

const HOST = '127.0.0.1';
const PASSWORD = 'fL7dW2qX9mR4tB8vN3kP';

/** A small seeded PRNG (mulberry32): the same flood every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid REGISTER (over `transport`, answers to `port`), the base of the mutations. */
const register = (transport: 'UDP' | 'TCP', port: number, i: number): string =>
  [
    'REGISTER sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK-flood-${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:flood@127.0.0.1>;tag=f${i}`,
    'To: <sip:flood@127.0.0.1>',
    `Call-ID: flood-${i}@127.0.0.1`,
    `CSeq: ${i + 1} REGISTER`,
    `Contact: <sip:flood@127.0.0.1:${port}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

/**
 * Malformed messages, each a different way to be wrong, and a few odd but valid requests
 * (a 30–60 kB header, 2000 Via headers, no Content-Length over UDP: a 401 challenge is
 * their right answer); `port` is where answers should go.
 */
function malformed(transport: 'UDP' | 'TCP', port: number, count: number, seed: number): Buffer[] {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const valid = (i: number): string => register(transport, port, i);
  const kinds: ((i: number) => Buffer | string)[] = [
    () => bytes(1 + int(1400)),
    (i) => valid(i).slice(0, 1 + int(valid(i).length - 5)), // truncated anywhere
    (i) => valid(i).replace('Content-Length: 0', `Content-Length: ${1 + int(5000)}`), // more body announced than sent
    (i) => valid(i).replace('Content-Length: 0', 'Content-Length: -1'),
    (i) => valid(i).replace('Content-Length: 0', 'Content-Length: 0x10'),
    (i) => valid(i).replace('Content-Length: 0\r\n', 'Content-Length: 0\r\nContent-Length: 7\r\n'),
    (i) => valid(i).replace('Content-Length: 0\r\n', ''),
    (i) => valid(i).replace('Max-Forwards: 70', `X-Huge: ${'A'.repeat(30_000 + int(30_000))}`), // huge header
    (i) => valid(i).replace('Max-Forwards: 70', Array.from({ length: 2000 }, (_, k) => `Via: SIP/2.0/UDP 10.0.${k % 250}.1;branch=z9hG4bK${k}`).join('\r\n')),
    (i) => valid(i).replace('SIP/2.0\r\n', 'SIP/7.3\r\n'),
    (i) => valid(i).replace('REGISTER sip:127.0.0.1', 'REGISTER <sip:127.0.0.1'),
    (i) => valid(i).replace(/^Call-ID: .*\r\n/mu, ''),
    (i) => valid(i).replace(/^CSeq: .*$/mu, 'CSeq: x REGISTER'),
    (i) => valid(i).replace(/^From: .*$/mu, 'From: <sip:"unterminated@127.0.0.1'),
    (i) => valid(i).replace('To: ', 'To:\r\n\r\n'),
    (i) => valid(i).replace('\r\n', '\n\0\r'),
    (i) => `${valid(i).replace('Content-Length: 0', 'Content-Length: 4')}\u00ff\u00fe`,
    (i) => {
      const b = Buffer.from(valid(i));
      for (let k = 0; k < 1 + int(20); k++) b[int(b.length)] = int(256); // bytes flipped
      return b;
    },
    () => `SIP/2.0 200 OK\r\nVia: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK-nobody\r\nContent-Length: 0\r\n\r\n`, // a response to nothing
    () => '\r\n\r\n\r\n\r',
  ];
  return Array.from({ length: count }, (_, i) => {
    const m = kinds[i % kinds.length]!(i);
    return typeof m === 'string' ? Buffer.from(m, 'latin1') : m;
  });
}

/** Sends every datagram from one socket; resolves with the status lines answered within `settleMs` of the last. */
function udpFlood(port: number, seed: number, count: number, settleMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const answers: string[] = [];
    socket.on('message', (data) => answers.push(data.toString('latin1').split('\r\n', 1)[0]!));
    socket.on('error', reject);
    socket.bind(0, HOST, () => {
      const messages = malformed('UDP', socket.address().port, count, seed);
      let sent = 0;
      const next = (): void => {
        if (sent === messages.length) {
          setTimeout(() => socket.close(() => resolve(answers)), settleMs);
          return;
        }
        socket.send(messages[sent++]!, port, HOST, () => setImmediate(next));
      };
      next();
    });
  });
}

/** The TCP sockets open in this process (the server's and the flood's ends). */
const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

/**
 * One TCP connection per message (`count`), each written then left open; resolves once every
 * one has been closed by the server or destroyed by us after `settleMs`, with what was answered,
 * how many the server closed itself (framing errors) and the TCP handles of this process
 * (both ends of the connections still open) just before ours were destroyed.
 */
async function tcpFlood(port: number, seed: number, count: number, settleMs: number): Promise<{ answers: string[]; closedByServer: number; openAtEnd: number }> {
  const answers: string[] = [];
  let closedByServer = 0;
  let settled = false;
  const sockets: Socket[] = [];
  const closed = malformed('TCP', 0, count, seed).map(
    (message) =>
      new Promise<void>((resolve) => {
        const socket = connect({ host: HOST, port });
        sockets.push(socket);
        socket.on('connect', () => socket.write(message));
        socket.on('data', (d) => answers.push(...d.toString('latin1').split('\r\n').filter((l) => l.startsWith('SIP/2.0 '))));
        socket.on('error', () => undefined); // a reset by the server is an answer too
        socket.on('close', () => {
          if (!settled) closedByServer++;
          resolve();
        });
      }),
  );
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  settled = true;
  const openAtEnd = tcpHandles();
  for (const s of sockets) s.destroy();
  await Promise.all(closed);
  return { answers, closedByServer, openAtEnd };
}

describe('interop: a flood of malformed packets leaves the server answering (UDP and TCP)', () => {
  let sip: InteropServer;
  const directory = new MemoryDirectory();
  addInteropUser(directory, { userId: newId(), clientId: newId(), username: 'survivor', extension: '401', password: PASSWORD });

  beforeAll(async () => {
    sip = await startInteropServer(directory, 'interop-flood-secret-interop-flood-secret');
  });

  afterAll(async () => {
    await sip.server.close();
    await sip.database.close();
  });

  it('answers what it can with 400/505 (401 to the odd valid ones), keeps no transaction and no connection for the garbage', async () => {
    const handles = tcpHandles();
    const udpAnswers = await udpFlood(sip.udp.port, 4475, 2000, 500);
    const { answers: tcpAnswers, closedByServer, openAtEnd } = await tcpFlood(sip.tcp.port, 3261, 200, 1000);
    expect(openAtEnd).toBeGreaterThan(handles); // some waited for more bytes (a body never sent, a head without its end)
    for (const answers of [udpAnswers, tcpAnswers]) {
      expect(answers.filter((a) => /^SIP\/2\.0 400 /u.test(a)).length).toBeGreaterThan(0);
      expect(answers.filter((a) => !/^SIP\/2\.0 (400|401|505) /u.test(a)), answers.join('\n')).toEqual([]);
    }
    expect(closedByServer).toBeGreaterThan(0); // framing errors (bad Content-Length, huge heads) close the connection
    await sip.server.idle();
    // Transactions only for the valid requests challenged over UDP (they live for Timer J); none over TCP.
    expect(sip.server.layer.size).toBeLessThanOrEqual(udpAnswers.filter((a) => a.startsWith('SIP/2.0 401 ')).length);
    expect(await waitFor(() => tcpHandles() <= handles, 5000), `${tcpHandles()} TCP handles, ${handles} before`).toBe(true);
  });

  it.skipIf(!has('sipp'))('then sipp still gets 200 to OPTIONS and REGISTERs (digest) over UDP and TCP', async () => {
    for (const [transport, port] of [['u1', sip.udp.port], ['t1', sip.tcp.port]] as const) {
      const common = [`${HOST}:${port}`, '-t', transport, '-i', HOST, '-m', '1'];
      const options = await sipp([...common, '-sf', join(SCENARIOS, 'options.xml')]);
      expect(options.code, options.output).toBe(0);
      const reg = await sipp([...common, '-sf', join(SCENARIOS, 'register.xml'), '-s', 'survivor', '-au', 'survivor', '-ap', PASSWORD]);
      expect(reg.code, reg.output).toBe(0);
    }
    expect(await activeBindings(sip.database.db, `sip:survivor@${HOST}`, systemClock.now())).toHaveLength(2);
  });
});
