/** CPU figures of processes and threads from Linux's /proc, for the benchmarks (the machine is shared: CPU, not wall clock). */
import { readFileSync } from 'node:fs';
import { type Database } from '../src/db/client.ts';
import { queryRows } from '../src/db/prepared.ts';

/** CPU seconds (user + system) in a /proc stat file; its fields counted after the command's closing parenthesis (the name may hold one). */
export function statCpuSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU seconds of each given process (one gone or unreadable is left out). */
export function cpuByPid(pids: Iterable<number>): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      cpu.set(pid, statCpuSeconds(`/proc/${pid}/stat`));
    } catch {
      // gone, or a server on another machine
    }
  }
  return cpu;
}

/** CPU seconds (user + system) of the given processes together (0 for one gone or unreadable). */
export const cpuOf = (pids: readonly number[]): number => [...cpuByPid(pids).values()].reduce((a, b) => a + b, 0);

/** The PostgreSQL backends connected to `database`'s database now; none on PGlite. */
export async function databaseBackendPids(database: Database): Promise<number[]> {
  if (database.kind !== 'postgres') return [];
  const rows = await queryRows(database.db, 'e2p_bench_backends', 'SELECT pid FROM pg_stat_activity WHERE datname = current_database()', []);
  return rows.map((row) => Number(row[0]));
}
