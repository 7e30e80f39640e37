/**
 * Authenticated REGISTER throughput of the registrar: sipp (bench/sip-register.xml:
 * REGISTER → 401 → REGISTER with MD5 digest → 200, BENCH_USERS users taken in turn
 * from an injection file, default 200) against the SIP
 * server on 127.0.0.1 (UDP), location in an in-memory PGlite. Bounded: a fixed
 * number of registrations, sipp stops after 120 s at most.
 * Parameters: BENCH_CALLS (default 2000), BENCH_RATE per second (default 500),
 * BENCH_DATABASE_URL (a PostgreSQL database to use instead of PGlite; gets migrated).
 * Besides the rate it prints the CPU time per REGISTER of this process and, on a local
 * PostgreSQL, of the database's backends (from /proc): on a shared machine the rate follows
 * the other jobs, the CPU per REGISTER much less (issue #4).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_HOST, BENCH_PASSWORD, benchBackendPids, registerBenchServer } from './sip/register-rig.ts';
import { cpuOf } from './proc.ts';

const calls = Number(process.env.BENCH_CALLS ?? 2000);
const rate = Number(process.env.BENCH_RATE ?? 500);
const host = BENCH_HOST;
const password = BENCH_PASSWORD;
if (spawnSync('sh', ['-c', 'command -v sipp']).status !== 0) {
  process.stderr.write('sipp is not installed\n');
  process.exit(2);
}

const users = Number(process.env.BENCH_USERS ?? 200);
const { database, server } = await registerBenchServer({ users, udpPort: '0' });
const work = mkdtempSync(join(tmpdir(), 'e2p-bench-sip-'));
const injection = join(work, 'users.csv');
writeFileSync(injection, ['SEQUENTIAL', ...Array.from({ length: users }, (_, i) => `bench${i};[authentication username=bench${i} password=${password}]`), ''].join('\n'));
const { udp } = await server.listen();
const scenario = fileURLToPath(new URL('./sip-register.xml', import.meta.url));
const backendPids = await benchBackendPids(database);
const load = loadavg().map((l) => l.toFixed(2)).join(' ');
const cpuStarted = process.cpuUsage();
const dbCpuStarted = cpuOf(backendPids);
const started = process.hrtime.bigint();
// sipp runs asynchronously so that this process keeps serving.
const { spawn } = await import('node:child_process');
const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
  const child = spawn(
    'sipp',
    [`${host}:${udp.port}`, '-sf', scenario, '-inf', injection, '-i', host, '-m', String(calls), '-r', String(rate), '-l', '200', ...(process.env.BENCH_KEEP ? ['-trace_msg'] : []), '-nostdin', '-timeout', '120s', '-timeout_error'],
    { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.on('exit', (code) => resolve({ code, output }));
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStarted);
const dbCpu = cpuOf(backendPids) - dbCpuStarted;
await server.close();
await database.close();
if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
process.stdout.write(
  [
    `sip-register: ${calls} authenticated REGISTERs offered at ${rate}/s over UDP by ${users} users (sipp bench/sip-register.xml), ${process.env.BENCH_DATABASE_URL ? 'PostgreSQL server' : 'PGlite in memory'}`,
    `  sipp exit code ${result.code} (0 = every registration got its 200)`,
    `  wall time ${seconds.toFixed(2)} s, ${(calls / seconds).toFixed(0)} registrations/s completed (offered: ${rate}/s)`,
    `  CPU per REGISTER: node ${((cpu.user + cpu.system) / 1000 / calls).toFixed(3)} ms (user ${(cpu.user / 1000 / calls).toFixed(3)}, system ${(cpu.system / 1000 / calls).toFixed(3)})` +
      (process.env.BENCH_DATABASE_URL ? `, PostgreSQL backends ${((1000 * dbCpu) / calls).toFixed(3)} ms (${backendPids.length} connections, local server only)` : ''),
    `  load average ${load} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    '',
  ].join('\n'),
);
if (result.code !== 0) process.stdout.write(result.output.slice(-2000));
