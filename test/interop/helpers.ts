/**
 * Helpers of the interop tests: whether a binary is installed, and running a
 * client with a bounded lifetime (killed by its own pid, never by name).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { freshMemoryDatabase } from '../../src/db/template.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { type Endpoint, ha1 } from '../../src/sip/index.ts';
import type { Directory, MemoryDirectory } from '../../src/telephony/directory.ts';
import { SipServer, type SipServerOptions } from '../../src/telephony/sip-server.ts';

export const has = (binary: string): boolean => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
export const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs a command, killing it (by its own pid) after `limitMs`; resolves on exit.
 * `until`, when given, is polled and stops the process (SIGTERM) once it holds.
 */
export function run(cmd: string, args: string[], o: { cwd?: string; limitMs: number; until?: () => Promise<boolean> }): Promise<Run & { reached: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let reached = false;
    let polling: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const limit = setTimeout(() => child.kill('SIGKILL'), o.limitMs);
    if (o.until) {
      const until = o.until;
      const poll = (): void => {
        until().then(
          (ok) => {
            if (ok) {
              reached = true;
              child.kill('SIGTERM');
            } else polling = setTimeout(poll, 100);
          },
          () => (polling = setTimeout(poll, 100)),
        );
      };
      polling = setTimeout(poll, 100);
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      if (polling) clearTimeout(polling);
      resolve({ code, signal, output, reached });
    });
  });
}

/**
 * sipp with `args`, one scenario run ending on its own (`-nostdin`, its calls failing after
 * 20 s, `-timeout_error`) and killed after `limitMs` (40 s) at the latest.
 */
export const sipp = (args: string[], o: { cwd?: string; limitMs?: number } = {}): Promise<Run & { reached: boolean }> =>
  run('sipp', [...args, '-nostdin', '-timeout', '20s', '-timeout_error'], { cwd: o.cwd ?? tmpdir(), limitMs: o.limitMs ?? 40_000 });

/** Adds a user of realm 127.0.0.1 (the interop server's domain) with `password`; returns its user id. */
export function addInteropUser(directory: MemoryDirectory, o: { userId: string; clientId: string; username: string; extension: string; password: string }): string {
  const realm = '127.0.0.1';
  directory.addUser({
    userId: o.userId,
    clientId: o.clientId,
    extension: o.extension,
    username: o.username,
    realm,
    ha1Md5: ha1('MD5', o.username, realm, o.password),
    ha1Sha256: ha1('SHA-256', o.username, realm, o.password),
  });
  return o.userId;
}

/** A UDP port free right now on `host` (bound then released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 100 ms until it holds or `limitMs` has passed; resolves to whether it held. */
export async function waitFor(check: () => Promise<boolean> | boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface InteropServer {
  database: Database;
  server: SipServer;
  udp: Endpoint;
  tcp: Endpoint;
}

/** The SIP server on 127.0.0.1 (ephemeral UDP and TCP ports, MD5 only: what Debian's sipp and baresip speak) over a fresh database. */
export async function startInteropServer(
  directory: Directory,
  nonceSecret: string,
  extra: Partial<Pick<SipServerOptions, 'nonceLifetimeMs' | 'ringTimeoutMs'>> = {},
): Promise<InteropServer> {
  const database = await freshMemoryDatabase();
  const config = loadConfig({ E2P_SIP_HOST: '127.0.0.1', E2P_SIP_UDP_PORT: '0', E2P_SIP_TCP_PORT: '0', E2P_SIP_DIGEST_ALGORITHMS: 'MD5' });
  const server = new SipServer({ sip: config.sip, db: database.db, clock: systemClock, log: createLogger('silent'), directory, nonceSecret, ...extra });
  const { udp, tcp } = await server.listen();
  return { database, server, udp, tcp };
}
