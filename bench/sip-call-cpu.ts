/**
 * CPU per call through the B2BUA inside the SIP node, without sockets (issue #4): the
 * platform wired as bench:sip's server (bench/sip/server.ts: `createPlatform`, the
 * provisioning directory, the call policy, CDRs), its transport delegate fed the bytes
 * sipp's uac sends (bench/sip/uac-call.xml: INVITE → 407 → ACK, INVITE with MD5 digest →
 * 180 → 200 → ACK → BYE → 200) through an in-memory UDP transport, and the carrier answered
 * in process as bench/sip/uas.xml does (180 and 200 with SDP to the relayed INVITE, 200 to
 * the BYE). BENCH_CONCURRENCY calls in flight, each starting the next when it ends;
 * `process.cpuUsage` is read around the run. What it measures is the parser, the
 * transaction layer, the digest, the policy, the CDR writes, the router and the serializer —
 * not the datagram system calls nor sipp, so it moves much less with the machine's load
 * than bench:sip's server CPU per call. The two sipp stand-ins (header lookups by
 * `indexOf`, two MD5s, templates) are in the figure too: a few µs per call.
 * Parameters: BENCH_CALLS (20 000), BENCH_USERS (10 000), BENCH_NUMBERS (0: the first N users
 * get a number of their own, bench/sip/provision.ts), BENCH_CONCURRENCY (100),
 * BENCH_WARMUP (3 000), BENCH_DATABASE_URL (a PostgreSQL database whose name holds "bench",
 * emptied first; PGlite in memory otherwise), E2P_POLICY_COUNTERS (memory by default),
 * BENCH_ALLOC_PROFILE=<file> (the measured run's allocation profile: bench/sip/cpu-run.ts;
 * BENCH_ALLOC_SURVIVORS=1: only the objects that outlived a young-generation collection),
 * BENCH_HOLD (2 000): after the warm-up, that many calls answered and ACKed but not hung up —
 * the JS heap they hold once answered (after a full collection, their transactions included)
 * gives the memory per call in progress; they are hung up before the measured run.
 */
import { hash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createPlatform } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { freshMemoryDatabase } from '../src/db/template.ts';
import { type Endpoint, type SendDone, type Transport, parseMessage } from '../src/sip/index.ts';
import { emptyBenchDatabase, provisionBenchUsers } from './sip/provision.ts';
import { BENCH_HOST } from './sip/register-rig.ts';
import { measureRun, perOperation } from './sip/cpu-run.ts';

const calls = Number(process.env.BENCH_CALLS ?? 20_000);
const users = Number(process.env.BENCH_USERS ?? 10_000);
const numbers = Number(process.env.BENCH_NUMBERS ?? 0);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 100);
const warmup = Number(process.env.BENCH_WARMUP ?? 3000);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const hold = Number(process.env.BENCH_HOLD ?? 2000);
const host = BENCH_HOST;
const password = 'bench-password-bench-password';
const dial = '0475123456';
const SERVER_PORT = 5060;
/** sipp's uac sends everything from one port, as in bench:sip. */
const UAC_PORT = 5061;
const CARRIER_PORT = 5070;
const md5 = (s: string): string => hash('md5', s, 'hex');

const config = loadConfig({
  ...process.env,
  E2P_SIP_HOST: host,
  E2P_SIP_UDP_PORT: '0',
  E2P_SIP_TCP_PORT: '0',
  E2P_HTTP_PORT: '0',
  E2P_SIP_DIGEST_ALGORITHMS: 'MD5',
  E2P_SIP_TRUNK: `sip:${host}:${CARRIER_PORT}`,
  E2P_SIP_TRUSTED_CARRIERS: '127.0.0.3',
  E2P_LOG_LEVEL: 'error',
  E2P_POLICY_COUNTERS: process.env.E2P_POLICY_COUNTERS ?? 'memory',
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
});
if (databaseUrl) await emptyBenchDatabase(databaseUrl);
const platform = await createPlatform(config, databaseUrl ? {} : { database: await freshMemoryDatabase() });
// The HTTP routes' schemas are compiled when Fastify gets ready (≈ 1 s of CPU): here before the load, as `npm start` does when it listens.
await platform.http.ready();
await provisionBenchUsers(platform.ctx, { users, password, realm: config.sip.domain, numbers });
const { sip: server } = await platform.listenSip();
const database = platform.ctx.database;

/** The value of the first header `name` (as our serializer writes it: long name, `: `). */
function header(text: string, name: string): string {
  const at = text.indexOf(`\r\n${name}: `);
  if (at < 0) throw new Error(`no ${name} in ${text.slice(0, 200)}`);
  const start = at + name.length + 4;
  return text.slice(start, text.indexOf('\r\n', start));
}
const quoted = (text: string, param: string): string => {
  const at = text.indexOf(`${param}="`) + param.length + 2;
  return text.slice(at, text.indexOf('"', at));
};

const sdp = (user: string, port: number): string =>
  `v=0\r\no=${user} 53655765 2353687637 IN IP4 ${host}\r\ns=-\r\nc=IN IP4 ${host}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
const UAC_SDP = sdp('user1', 6000);
const UAS_SDP = sdp('user2', 6002);

interface Call {
  readonly n: number;
  readonly user: string;
  readonly callId: string;
  readonly fromTag: string;
  /** A held call's BYE, sent at the end of `heldCallMemory`. */
  bye?: string;
}

/** `heldCallMemory`: answered calls are held (no BYE) while set, and collected here. */
let holding = false;
const held: Call[] = [];
let allHeld: () => void = () => undefined;
/** Calls started stop at this count (`drive`). */
let stopAt = 0;
let started = 0;
let done = 0;
let failed = 0;
/** Messages for a call already ended (a bug of the server or of this driver). */
let stray = 0;
/** BYEs the carrier has answered (the run ends when every call's has). */
let carrierByes = 0;
let finish: () => void = () => undefined;
const inFlight = new Map<string, Call>();
const ruri = `sip:${dial}@${host}:${SERVER_PORT}`;

const inviteHead = (c: Call, cseq: number): string =>
  `INVITE ${ruri} SIP/2.0\r\n` +
  `Via: SIP/2.0/UDP ${host}:${UAC_PORT};branch=z9hG4bK-${c.n}-${cseq};rport\r\n` +
  'Max-Forwards: 70\r\n' +
  `From: <sip:${c.user}@${host}>;tag=${c.fromTag}\r\n` +
  `To: <sip:${dial}@${host}>\r\n` +
  `Call-ID: ${c.callId}\r\n` +
  `CSeq: ${cseq} INVITE\r\n` +
  `Contact: <sip:${c.user}@${host}:${UAC_PORT};transport=UDP>\r\n` +
  'User-Agent: sipp\r\n';
const inviteTail = `Content-Type: application/sdp\r\nContent-Length: ${UAC_SDP.length}\r\n\r\n${UAC_SDP}`;

/** An in-dialog request of the uac (ACK of the 2xx, BYE) as uac-call.xml writes it. */
const inDialog = (c: Call, method: string, cseq: number, target: string, to: string, via = `SIP/2.0/UDP ${host}:${UAC_PORT};branch=z9hG4bK-${c.n}-${cseq}-${method};rport`): string =>
  `${method} ${target} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: <sip:${c.user}@${host}>;tag=${c.fromTag}\r\nTo: ${to}\r\nCall-ID: ${c.callId}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`;

const toServer = (text: string, port: number): void => {
  const r = parseMessage(Buffer.from(text, 'latin1'));
  const source = { transport, remote: { address: host, port } };
  if (r.ok) server.delegate.onMessage(r.message, source);
  else server.delegate.onParseError(r.error, source);
};
const later = (text: string, port: number): void => void setImmediate(toServer, text, port);

const begin = (): void => {
  if (started >= stopAt) return;
  const n = started++;
  const c: Call = { n, user: `bench${n % users}`, callId: `${n}-bench@${host}`, fromTag: `${n}SIPpTag00${n}` };
  inFlight.set(c.callId, c);
  toServer(inviteHead(c, 1) + inviteTail, UAC_PORT);
};

/** What the uac does with a response (uac-call.xml). */
function uac(text: string): void {
  const status = Number(text.slice(8, 11));
  const c = inFlight.get(header(text, 'Call-ID'));
  if (c === undefined) {
    stray++;
    return;
  }
  const cseq = header(text, 'CSeq');
  if (status === 407) {
    const to = header(text, 'To');
    later(inDialog(c, 'ACK', 1, ruri, to, header(text, 'Via')), UAC_PORT);
    const challenge = header(text, 'Proxy-Authenticate');
    const nonce = quoted(challenge, 'nonce');
    const opaque = quoted(challenge, 'opaque');
    const cnonce = `c${c.n}`;
    const response = md5(`${md5(`${c.user}:${host}:${password}`)}:${nonce}:00000001:${cnonce}:auth:${md5(`INVITE:${ruri}`)}`);
    const auth = `Proxy-Authorization: Digest username="${c.user}",realm="${host}",cnonce="${cnonce}",nc=00000001,qop=auth,uri="${ruri}",nonce="${nonce}",response="${response}",algorithm=MD5,opaque="${opaque}"\r\n`;
    later(inviteHead(c, 2) + auth + inviteTail, UAC_PORT);
  } else if (status === 200 && cseq === '2 INVITE') {
    const to = header(text, 'To');
    const contact = header(text, 'Contact');
    const target = contact.slice(contact.indexOf('<') + 1, contact.indexOf('>'));
    later(inDialog(c, 'ACK', 2, target, to), UAC_PORT);
    if (holding) {
      c.bye = inDialog(c, 'BYE', 3, target, to);
      held.push(c);
      if (held.length === hold) setImmediate(allHeld);
      else if (started < stopAt) setImmediate(begin); // the next call, as an ended one starts it
    } else later(inDialog(c, 'BYE', 3, target, to), UAC_PORT);
  } else if (cseq === '3 BYE') {
    inFlight.delete(c.callId);
    if (status === 200) done++;
    else failed++;
    next();
  } else if (status >= 300) {
    // Any other final answer fails the call (sipp: unexpected message).
    inFlight.delete(c.callId);
    failed++;
    next();
  }
}

/** What the carrier does with a request (uas.xml): 180 and 200 with SDP to the INVITE, 200 to the BYE. */
function carrier(text: string): void {
  const method = text.slice(0, text.indexOf(' '));
  if (method === 'ACK') return;
  const common = `Via: ${header(text, 'Via')}\r\nFrom: ${header(text, 'From')}\r\n`;
  const ids = `Call-ID: ${header(text, 'Call-ID')}\r\nCSeq: ${header(text, 'CSeq')}\r\n`;
  if (method === 'INVITE') {
    const to = `To: ${header(text, 'To')};tag=${header(text, 'Call-ID').slice(0, 8)}SIPpTag01\r\n`;
    const contact = `Contact: <sip:carrier@${host}:${CARRIER_PORT};transport=UDP>\r\n`;
    later(`SIP/2.0 180 Ringing\r\n${common}${to}${ids}${contact}Content-Length: 0\r\n\r\n`, CARRIER_PORT);
    later(`SIP/2.0 200 OK\r\n${common}${to}${ids}${contact}Content-Type: application/sdp\r\nContent-Length: ${UAS_SDP.length}\r\n\r\n${UAS_SDP}`, CARRIER_PORT);
  } else if (method === 'BYE') {
    later(`SIP/2.0 200 OK\r\n${common}To: ${header(text, 'To')}\r\n${ids}Content-Length: 0\r\n\r\n`, CARRIER_PORT);
    carrierByes++;
    if (inFlight.size === 0 && started >= stopAt && carrierByes >= done) finish();
  }
}

function next(): void {
  if (started < stopAt) setImmediate(begin);
  else if (inFlight.size === 0 && carrierByes >= done) finish();
}

/** The sends' outcomes, all reported together a turn later (a socket reports on a later tick). */
let outcomes: SendDone[] = [];
const report = (): void => {
  const due = outcomes;
  outcomes = [];
  for (const d of due) d(null);
};
const transport: Transport = {
  protocol: 'UDP',
  reliable: false,
  local: { address: host, port: SERVER_PORT },
  close: () => Promise.resolve(),
  send(data: Uint8Array, to: Endpoint): Promise<void> {
    return new Promise((resolve) => transport.post!(data, to, () => resolve()));
  },
  post(data: Uint8Array, to: Endpoint, sent: SendDone): void {
    if (outcomes.push(sent) === 1) setImmediate(report);
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
    if (to.port === CARRIER_PORT) carrier(text);
    else if (to.port === UAC_PORT) uac(text);
    else stray++;
  },
};

// A bench-only reach into the server: its UDP transport (bound, idle) replaced by the in-memory one.
const transports = (server as unknown as { transports: Transport[] }).transports;
const udpAt = transports.findIndex((t) => t.protocol === 'UDP');
const realUdp = transports[udpAt]!;
transports[udpAt] = transport;

/** Starts `concurrency` chains of calls; resolves once `count` more have started and every call has ended. */
function drive(count: number): Promise<void> {
  stopAt = started + count;
  if (count <= 0) return Promise.resolve(); // BENCH_WARMUP=0: no call would end to resolve it
  return new Promise((resolve) => {
    finish = resolve;
    for (let i = 0; i < concurrency && started < stopAt; i++) begin();
  });
}

await drive(warmup); // JIT, prepared statements, the policy's caches

/**
 * The memory of calls in progress: `hold` calls answered and ACKed, not hung up; the heap after a
 * full collection before and once all are answered (and their ACKs handled), per call.
 */
async function heldCallMemory(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  await server.idle();
  const before = heap();
  holding = true;
  await new Promise<void>((resolve) => {
    allHeld = () => setTimeout(resolve, 50); // their ACKs handled
    stopAt = started + hold;
    for (let i = 0; i < concurrency && started < stopAt; i++) begin();
  });
  await server.idle();
  const perCall = (heap() - before) / hold;
  holding = false;
  // Hung up: the BYEs end them as in the runs.
  await new Promise<void>((resolve) => {
    finish = resolve;
    for (const c of held) later(c.bye!, UAC_PORT);
  });
  return perCall;
}
const heldBytes = hold > 0 ? await heldCallMemory() : NaN;
const doneBefore = done;
const f = await measureRun(database, () => drive(calls), process.env.BENCH_ALLOC_PROFILE);
const n = done - doneBefore;

await server.idle();
transports[udpAt] = realUdp;
await platform.close();
if (!databaseUrl) await database.close();
process.stdout.write(
  [
    `sip-call-cpu: ${calls} calls INVITE → 407 → INVITE (MD5) → 180 → 200 → ACK → BYE → 200 (after ${warmup} warm-up) by ${users} users (${numbers} with a number of their own) to the carrier, ${concurrency} in flight, in-memory transport, ${databaseUrl ? 'PostgreSQL server' : 'PGlite in memory'}, policy counters ${config.policy.counters}`,
    `  ${n} completed, ${failed} failed, ${stray} stray messages; wall ${f.seconds.toFixed(2)} s (${(n / f.seconds).toFixed(0)}/s)`,
    ...perOperation(f, n, 'call'),
    ...(hold > 0 ? [`  calls in progress: ${hold} answered and not hung up hold ${(heldBytes / 1024).toFixed(1)} KiB of JS heap each (after a full collection, their transactions included)`] : []),
    '',
  ].join('\n'),
);
