/**
 * `easy2phone start` on the embedded database, as a newcomer runs it: it prints where the
 * platform is and how to log in, serves /readyz, and stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/easy2phone.mjs', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

interface Started {
  child: ChildProcessWithoutNullStreams;
  banner: string;
  url: string;
  email: string;
  password: string;
}

function start(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      E2P_DATA_DIR: dataDir,
      E2P_HTTP_PORT: '0',
      E2P_SIP_UDP_PORT: '0',
      E2P_SIP_TCP_PORT: '0',
      E2P_LOG_LEVEL: 'warn',
    },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('Stop with Ctrl-C')) return;
      const url = /Portal \/ API : (http:\/\/\S+?)\/ /.exec(out)?.[1];
      const creds = /Operator admin: (\S+) \/ (\S+)/.exec(out);
      if (!url || !creds) return reject(new Error(`unexpected banner:\n${out}`));
      resolve({ child, banner: out, url, email: creds[1]!, password: creds[2]! });
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('easy2phone start', () => {
  it('serves the API on the embedded database with the first admin printed, and keeps it across restarts', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'e2p-start-'));
    const first = await start(dataDir);
    expect(first.banner).toContain('generated now');
    expect(first.banner).toMatch(/SIP\s+: sip:/);
    expect(first.banner).toContain(`embedded PGlite in ${join(dataDir, 'pglite')}`);

    const ready = await fetch(`${first.url}/readyz`);
    expect(ready.status).toBe(200);
    const login = await fetch(`${first.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: first.email, password: first.password }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toMatch(/e2p_session=.*HttpOnly/i);
    expect(await stop(first.child)).toBe(0);

    // Same data dir: the same admin, its password still printed until it is changed.
    const second = await start(dataDir);
    expect(second.email).toBe(first.email);
    expect(second.password).toBe(first.password);
    expect(second.banner).toContain('generated at first start');
    expect(await stop(second.child)).toBe(0);
  });
});
