/**
 * The latency a UDP transport adds at low load: two transports of the same kind on
 * loopback, one sends an OPTIONS, the other answers it, one at a time (a round trip is two
 * datagrams, each parsed). `UdpTransport` (the socket in the SIP thread) against
 * `ThreadedUdpTransport` (the socket in a thread of its own, E2P_SIP_UDP_THREAD: every
 * datagram crosses between threads twice). Alternated rounds, so that a spell of the
 * machine falls on both. BENCH_ROUNDS (4), BENCH_TRIPS (3 000 per round); a 1 ms pause
 * every 10 round trips lets the threads fall asleep, as between the calls of a quiet node.
 */
import { ThreadedUdpTransport, type Transport, type TransportDelegate, UdpTransport } from '../src/sip/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const TRIPS = Number(process.env.BENCH_TRIPS ?? 3000);

const options = (i: number): Buffer =>
  Buffer.from(
    [
      'OPTIONS sip:bob@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK${i}`,
      'Max-Forwards: 70',
      'To: <sip:bob@127.0.0.1>',
      'From: <sip:alice@127.0.0.1>;tag=1',
      `Call-ID: rtt-${i}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );

type Kind = typeof UdpTransport | typeof ThreadedUdpTransport;

async function round(kind: Kind): Promise<number[]> {
  let arrived: (() => void) | undefined;
  const answerer: { transport?: Transport } = {};
  const ignore = (): void => undefined;
  const asker: TransportDelegate = { onMessage: () => arrived?.(), onParseError: ignore };
  const echo: TransportDelegate = { onMessage: (_m, source) => void answerer.transport?.send(options(0), source.remote), onParseError: ignore };
  const a = await kind.listen({ host: '127.0.0.1', port: 0, delegate: asker });
  const b = await kind.listen({ host: '127.0.0.1', port: 0, delegate: echo });
  answerer.transport = b;
  const rtts: number[] = [];
  for (let i = 0; i < TRIPS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      arrived = resolve;
      void a.send(options(i), b.local);
    });
    rtts.push(performance.now() - t0);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all([a.close(), b.close()]);
  return rtts;
}

const quantile = (sorted: readonly number[], p: number): string => sorted[Math.floor(p * (sorted.length - 1))]!.toFixed(3);

console.log(`sip-udp-rtt — ${new Date().toISOString()}; BENCH_ROUNDS=${ROUNDS} BENCH_TRIPS=${TRIPS}; node ${process.version}`);
const kinds: { name: string; kind: Kind; rtts: number[] }[] = [
  { name: 'UdpTransport (socket in the SIP thread)', kind: UdpTransport, rtts: [] },
  { name: 'ThreadedUdpTransport (socket in its own thread)', kind: ThreadedUdpTransport, rtts: [] },
];
for (let r = 0; r < ROUNDS; r++) for (const k of kinds) k.rtts.push(...(await round(k.kind)));
for (const { name, rtts } of kinds) {
  rtts.sort((x, y) => x - y);
  console.log(`  ${name}: round trip p50 ${quantile(rtts, 0.5)} ms, p90 ${quantile(rtts, 0.9)} ms, p99 ${quantile(rtts, 0.99)} ms over ${rtts.length}`);
}
