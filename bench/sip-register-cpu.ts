/**
 * CPU per authenticated REGISTER inside the SIP node, without sockets (issue #4): the
 * server's transport delegate is fed the bytes sipp sends (bench/sip-register.xml:
 * REGISTER → 401 → REGISTER with MD5 digest → 200) through an in-memory transport,
 * BENCH_CONCURRENCY registrations in flight, and `process.cpuUsage` is read around the
 * run. What it measures is the parser, the transaction layer, the digest, the registrar,
 * the location write (group commit) and the serializer — not the datagram system calls
 * nor sipp, so it moves much less with the machine's load than `sip-register`.
 * The client side (a regex for the nonce, two MD5s, a template) is in the figure too:
 * a few µs per REGISTER.
 * Parameters: BENCH_CALLS (20 000), BENCH_USERS (2 000), BENCH_CONCURRENCY (100),
 * BENCH_WARMUP (2 000), BENCH_DATABASE_URL (a PostgreSQL database, migrated; PGlite otherwise),
 * BENCH_NO_LOCATION=1 (the registrar's location writer replaced by a stub answering at once:
 * the SIP and digest work alone, without the database statement and its driver).
 */
import { hash } from 'node:crypto';
import { loadavg } from 'node:os';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { type Endpoint, type Transport, parseMessage } from '../src/sip/index.ts';
import { BENCH_HOST, BENCH_PASSWORD, benchBackendPids, registerBenchServer, threadCpu } from './sip/register-rig.ts';
import { cpuOf } from './proc.ts';

const calls = Number(process.env.BENCH_CALLS ?? 20_000);
const users = Number(process.env.BENCH_USERS ?? 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 100);
const warmup = Number(process.env.BENCH_WARMUP ?? 2000);
const host = BENCH_HOST;
const password = BENCH_PASSWORD;
const md5 = (s: string): string => hash('md5', s, 'hex');

const { database, server } = await registerBenchServer({ users, udpPort: '5060', emptyBindings: true });

if (process.env.BENCH_NO_LOCATION === '1') {
  // A bench-only reach into the registrar: its group-commit writer answers every REGISTER at once.
  type Update = { readonly contacts: readonly { uri: string; expires: number; q: number }[]; readonly callId: string; readonly cseq: number };
  const writer = (server.registrar as unknown as { location: { apply: (u: Update, now: Date) => Promise<unknown> } }).location;
  writer.apply = (u, now) =>
    Promise.resolve({
      kind: 'ok',
      bindings: u.contacts.map((c) => ({ id: 'stub', contactUri: c.uri, expiresAt: new Date(now.getTime() + c.expires * 1000), q: c.q, updatedAt: now, callId: u.callId, cseq: u.cseq })),
    });
}

/** One registration of sipp's scenario per in-flight slot; the next starts on its 200. */
const ruri = `sip:${host}:5060`;
let started = 0;
/** Registrations started stop at this count. */
let stopAt = 0;
let done = 0;
let failed = 0;
/** Responses to a registration already finished (would be a bug of the server or of this driver). */
let stray = 0;
let finish: () => void = () => undefined;
const inFlight = new Map<string, { user: string; port: number; n: number }>();
const head = (user: string, port: number, n: number, cseq: number): string =>
  `REGISTER ${ruri} SIP/2.0\r\n` +
  `Via: SIP/2.0/UDP ${host}:${port};branch=z9hG4bK-${n}-${cseq};rport\r\n` +
  'Max-Forwards: 70\r\n' +
  `From: <sip:${user}@${host}>;tag=${n}SIPpTag00${n}\r\n` +
  `To: <sip:${user}@${host}>\r\n` +
  `Call-ID: ${n}-bench@${host}\r\n` +
  `CSeq: ${cseq} REGISTER\r\n` +
  `Contact: <sip:${user}@${host}:${port};transport=UDP>\r\n` +
  'Expires: 120\r\n' +
  'User-Agent: sipp\r\n';
const deliver = (text: string, port: number): void => {
  const r = parseMessage(Buffer.from(text, 'latin1'));
  if (!r.ok) throw new Error(r.error.reason);
  server.delegate.onMessage(r.message, { transport, remote: { address: host, port } });
};
const begin = (): void => {
  if (started >= stopAt) return;
  const n = started++;
  const user = `bench${n % users}`;
  // One phone per user, as sipp's scenario in bench:sip: the same Contact each time, so the user
  // keeps one binding (a port per REGISTER gave ≈ 11 contacts per user over a run, ≈ 6 listed in each 200).
  const port = 10_000 + ((n % users) % 50_000);
  const callId = `${n}-bench@${host}`;
  inFlight.set(callId, { user, port, n });
  deliver(`${head(user, port, n, 1)}Content-Length: 0\r\n\r\n`, port);
};
const transport: Transport = {
  protocol: 'UDP',
  reliable: false,
  local: { address: host, port: 5060 },
  close: () => Promise.resolve(),
  send(data: Uint8Array, _to: Endpoint): Promise<void> {
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
    const status = Number(text.slice(8, 11));
    const callId = /\r\nCall-ID: ([^\r]+)/u.exec(text)![1]!;
    const reg = inFlight.get(callId);
    if (reg === undefined) {
      stray++;
      return Promise.resolve();
    }
    if (status === 401) {
      const nonce = /nonce="([^"]+)"/u.exec(text)![1]!;
      const opaque = /opaque="([^"]+)"/u.exec(text)![1]!;
      const cnonce = `c${reg.n}`;
      const ha2 = md5(`REGISTER:${ruri}`);
      const response = md5(`${md5(`${reg.user}:${host}:${password}`)}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
      const auth = `Authorization: Digest username="${reg.user}",realm="${host}",cnonce="${cnonce}",nc=00000001,qop=auth,uri="${ruri}",nonce="${nonce}",response="${response}",algorithm=MD5,opaque="${opaque}"\r\n`;
      setImmediate(() => deliver(`${head(reg.user, reg.port, reg.n, 2)}${auth}Content-Length: 0\r\n\r\n`, reg.port));
    } else {
      inFlight.delete(callId);
      if (status === 200) done++;
      else failed++;
      if (started < stopAt) setImmediate(begin);
      else if (inFlight.size === 0) finish();
    }
    return Promise.resolve();
  },
};

/** Starts `concurrency` chains of registrations and waits until `stopAt` have started and all ended. */
const drive = (): Promise<void> =>
  new Promise((resolve) => {
    finish = resolve;
    for (let i = 0; i < concurrency && started < stopAt; i++) begin();
  });

// Warm-up (JIT, prepared statements), then the measured run.
stopAt = warmup;
await drive();
stopAt = warmup + calls;
const load = loadavg().map((l) => l.toFixed(2)).join(' ');
const backendPids = await benchBackendPids(database);
const doneBefore = done;
const db0 = cpuOf(backendPids);
const writer = (server.registrar as unknown as { location: { statements?: number } }).location;
const statements0 = writer.statements ?? 0;
const threads0 = threadCpu();
// Young-generation collections: each one follows a semi-space's worth of allocation, so their
// count per REGISTER is an allocation figure that the machine's load does not move (issue #4).
const gc = { minor: 0, major: 0, ms: 0 };
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else gc.major++;
    gc.ms += e.duration;
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await drive();
const cpu = process.cpuUsage(cpu0);
await new Promise((r) => setImmediate(r));
gcObserver.disconnect();
const dbCpu = cpuOf(backendPids) - db0;
const threads = threadCpu();
const statements = (writer.statements ?? 0) - statements0;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const n = done - doneBefore;

await server.close();
await database.close();
process.stdout.write(
  [
    `sip-register-cpu: ${calls} authenticated REGISTERs (after ${warmup} warm-up) by ${users} users, ${concurrency} in flight, in-memory transport, ${process.env.BENCH_NO_LOCATION === '1' ? 'location stubbed (BENCH_NO_LOCATION=1)' : process.env.BENCH_DATABASE_URL ? 'PostgreSQL server' : 'PGlite in memory'}`,
    `  ${n} got their 200, ${failed} did not, ${stray} stray responses; wall ${seconds.toFixed(2)} s (${(n / seconds).toFixed(0)}/s)` +
      (statements > 0 ? `; ${statements} location statements (${(n / statements).toFixed(1)} REGISTERs each)` : ''),
    `  CPU per REGISTER (401 + 200): ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms (user ${(cpu.user / 1000 / n).toFixed(3)}, system ${(cpu.system / 1000 / n).toFixed(3)})` +
      `; main thread ${((1000 * (threads.main - threads0.main)) / n).toFixed(3)} ms, other threads ${((1000 * (threads.others - threads0.others)) / n).toFixed(3)} ms` +
      (backendPids.length > 0 ? `; PostgreSQL backends ${((1000 * dbCpu) / n).toFixed(3)} ms (${backendPids.length} connections)` : ''),
    `  GC: ${((1000 * gc.minor) / n).toFixed(2)} young-generation and ${((1000 * gc.major) / n).toFixed(2)} other collections per 1 000 REGISTERs, ${((1000 * gc.ms) / n).toFixed(1)} µs of pauses per REGISTER`,
    `  load average ${load} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    '',
  ].join('\n'),
);
