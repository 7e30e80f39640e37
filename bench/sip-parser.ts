/**
 * SIP parser and serializer throughput on typical messages (an INVITE with SDP and a
 * REGISTER with digest credentials), in one process, no I/O. Bounded: a fixed count.
 */
import { parseMessage, serializeMessage } from '../src/sip/index.ts';

const invite = [
  'INVITE sip:+32470123456@sip.easy2phone.be SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: <sip:+32470123456@sip.easy2phone.be>',
  'From: "Alice" <sip:101@sip.easy2phone.be>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:101@192.0.2.10:5060;transport=udp>',
  'Proxy-Authorization: Digest username="101.acme", realm="sip.easy2phone.be", nonce="MTcwMDAwMDAwMDAwMA.abcdef", uri="sip:+32470123456@sip.easy2phone.be", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b"',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE',
  'Supported: replaces, timer',
  'Content-Type: application/sdp',
  'Content-Length: 142',
  '',
  'v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n',
].join('\r\n');
const register = [
  'REGISTER sip:sip.easy2phone.be SIP/2.0',
  'Via: SIP/2.0/TCP 192.0.2.11:50234;branch=z9hG4bKnashds7;rport',
  'Max-Forwards: 70',
  'To: <sip:101.acme@sip.easy2phone.be>',
  'From: <sip:101.acme@sip.easy2phone.be>;tag=456248',
  'Call-ID: 843817637684230@998sdasdh09',
  'CSeq: 1826 REGISTER',
  'Contact: <sip:101@192.0.2.11:50234;transport=tcp>;expires=3600',
  'User-Agent: Yealink SIP-T54W 96.86.0.70',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const COUNT = 200_000;
const messages = [Buffer.from(invite.replace('Content-Length: 142', `Content-Length: ${Buffer.byteLength(invite.split('\r\n\r\n')[1] ?? '')}`)), Buffer.from(register)];

/**
 * Wall-clock throughput, plus the CPU time this process used per message: on a
 * shared machine the second is less disturbed by the other jobs (not immune:
 * they still share caches and cores), so both go into bench/README.md.
 */
function measure(label: string, fn: (i: number) => void): void {
  for (let i = 0; i < 10_000; i++) fn(i); // warm-up
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / COUNT;
  process.stdout.write(
    `${label}: ${Math.round((COUNT / ns) * 1e9).toLocaleString('en')} msg/s (${(ns / COUNT / 1000).toFixed(2)} µs/msg wall, ${cpuUs.toFixed(2)} µs/msg CPU, ${COUNT} messages)\n`,
  );
}

const parsed = messages.map((m) => {
  const r = parseMessage(m);
  if (!r.ok) throw new Error(`bench message does not parse: ${r.error.reason}`);
  return r.message;
});
process.stdout.write(`node ${process.version}, INVITE ${messages[0]!.length} B + REGISTER ${messages[1]!.length} B alternating\n`);
measure('parse', (i) => {
  const r = parseMessage(messages[i & 1]!);
  if (!r.ok) throw new Error('parse failed');
});
measure('serialize', (i) => {
  serializeMessage(parsed[i & 1]!);
});
