/**
 * The REGISTER benchmarks' server (bench/sip-register.ts with sipp, bench/sip-register-cpu.ts
 * in memory): BENCH_DATABASE_URL (PostgreSQL, migrated) or a fresh PGlite, `users` users
 * bench0… with one password in a MemoryDirectory, a SipServer on 127.0.0.1 with MD5 digest.
 */
import { readdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { freshMemoryDatabase } from '../../src/db/template.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { ha1 } from '../../src/sip/index.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { SipServer } from '../../src/telephony/sip-server.ts';
import { databaseBackendPids, statCpuSeconds } from '../proc.ts';

export const BENCH_HOST = '127.0.0.1';
export const BENCH_PASSWORD = 'bench-password-bench-password';

export async function registerBenchServer(opts: { users: number; udpPort: string; emptyBindings?: boolean }): Promise<{ database: Database; server: SipServer }> {
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const database = databaseUrl ? await openDatabase({ url: databaseUrl }) : await freshMemoryDatabase();
  if (databaseUrl) {
    await database.migrate();
    if (opts.emptyBindings) {
      await database.db.execute(sql`DELETE FROM sip_bindings`);
      await database.db.execute(sql`VACUUM sip_bindings`);
    }
  }
  const directory = new MemoryDirectory();
  const clientId = newId();
  for (let i = 0; i < opts.users; i++) {
    const username = `bench${i}`;
    directory.addUser({
      userId: newId(),
      clientId,
      extension: String(1000 + i),
      username,
      realm: BENCH_HOST,
      ha1Md5: ha1('MD5', username, BENCH_HOST, BENCH_PASSWORD),
      ha1Sha256: ha1('SHA-256', username, BENCH_HOST, BENCH_PASSWORD),
    });
  }
  const server = new SipServer({
    sip: loadConfig({ E2P_SIP_HOST: BENCH_HOST, E2P_SIP_UDP_PORT: opts.udpPort, E2P_SIP_TCP_PORT: '0', E2P_SIP_DIGEST_ALGORITHMS: 'MD5' }).sip,
    db: database.db,
    clock: systemClock,
    log: createLogger('silent'),
    directory,
    nonceSecret: 'bench-secret-bench-secret-bench-secret',
  });
  return { database, server };
}

/**
 * The PostgreSQL backends serving the bench's database (the pool's and any dedicated
 * connection, e.g. the location writer's), for `cpuOf`; none on PGlite. The pool's
 * connections are opened first so that they are all there during the run.
 */
export async function benchBackendPids(database: Database): Promise<number[]> {
  if (database.kind !== 'postgres') return [];
  await Promise.all(Array.from({ length: 10 }, () => database.db.execute(sql`SELECT pg_sleep(0.05)`)));
  return databaseBackendPids(database);
}

/**
 * CPU seconds of this process's threads, main thread first then every other one together
 * (V8's GC and compiler helpers, libuv's pool): `process.cpuUsage` counts both.
 */
export function threadCpu(): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const t of readdirSync('/proc/self/task')) {
    // /proc/PID/stat of the main thread would be the whole process: its task entry is the thread alone.
    const seconds = statCpuSeconds(`/proc/self/task/${t}/stat`);
    if (Number(t) === process.pid) main += seconds;
    else others += seconds;
  }
  return { main, others };
}
