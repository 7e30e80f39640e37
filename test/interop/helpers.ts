/**
 * Helpers of the interop tests: whether a binary is installed, and running a
 * client with a bounded lifetime (killed by its own pid, never by name).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * `until`, when given, is polled and stops the process (SIGTERM) once it holds;
 * `onOutput` sees its stdout and stderr as they come.
 */
export function run(
  cmd: string,
  args: string[],
  o: { cwd?: string; limitMs: number; until?: () => Promise<boolean>; onOutput?: (text: string) => void },
): Promise<Run & { reached: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let reached = false;
    let polling: NodeJS.Timeout | undefined;
    const collect = (d: Buffer): void => {
      output += d.toString();
      o.onOutput?.(d.toString());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
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

/** A TCP port free right now on 127.0.0.1 (bound then released). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A WAV file (16-bit PCM, mono, 8 kHz, what G.711 carries) of a `hz` tone lasting `seconds`. */
export function writeToneWav(path: string, seconds: number, hz = 440): void {
  const rate = 8000;
  const samples = rate * seconds;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  writeFileSync(path, wav);
}

/**
 * A baresip 1.0 configuration directory for one account: SIP on 127.0.0.1 (ephemeral port),
 * G.711, audio read from `wav` (`aufile`), no sound card (`audio_player none`), the `menu`
 * commands reachable over `ctrl_tcp` on `ctrlPort`, and `extra` account parameters (e.g.
 * `answermode=auto`). Only modules Debian's package installs under /usr/lib/baresip/modules.
 */
export function baresipConfig(dir: string, o: { account: string; password: string; server: Endpoint; ctrlPort?: number; wav?: string; accountParams?: string[] }): void {
  writeFileSync(
    join(dir, 'config'),
    [
      'module_path /usr/lib/baresip/modules',
      'sip_listen 127.0.0.1:0',
      'module_app account.so',
      ...(o.ctrlPort === undefined ? [] : ['module_app menu.so', 'module_app ctrl_tcp.so', `ctrl_tcp_listen 127.0.0.1:${o.ctrlPort}`]),
      ...(o.wav === undefined ? ['audio_source none'] : ['module g711.so', 'module aufile.so', `audio_source aufile,${o.wav}`]),
      'audio_player none',
      'audio_alert none',
      '',
    ].join('\n'),
  );
  const params = [`auth_pass=${o.password}`, 'regint=60', ...(o.accountParams ?? [])];
  writeFileSync(join(dir, 'accounts'), `<sip:${o.account}@${o.server.address}:${o.server.port};transport=udp>;${params.join(';')}\n`);
  writeFileSync(join(dir, 'contacts'), '');
}

/**
 * Sends a command to baresip's `ctrl_tcp` (a netstring of JSON, RFC-less but documented in
 * the module) and resolves with its response (`{ response: true, ok, data }`), skipping the
 * events it also sends; fails after `limitMs`.
 */
export function baresipCommand(port: number, command: string, params = '', limitMs = 5000): Promise<{ ok: boolean; data: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = '';
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`baresip did not answer ${command}`));
    }, limitMs);
    socket.on('connect', () => {
      const json = JSON.stringify({ command, params, token: command });
      socket.write(`${Buffer.byteLength(json)}:${json},`);
    });
    socket.on('data', (d) => {
      buffer += d.toString();
      for (let m = /^(\d+):/u.exec(buffer); m !== null; m = /^(\d+):/u.exec(buffer)) {
        const start = m[0].length;
        const end = start + Number(m[1]);
        if (buffer.length <= end) return;
        const message = JSON.parse(buffer.slice(start, end)) as { response?: boolean; ok?: boolean; data?: string };
        buffer = buffer.slice(end + 1);
        if (message.response === true) {
          clearTimeout(limit);
          socket.destroy();
          resolve({ ok: message.ok === true, data: message.data ?? '' });
          return;
        }
      }
    });
    socket.on('error', (e) => {
      clearTimeout(limit);
      reject(e);
    });
  });
}
