/**
 * The `easy2phone` command as a person runs it: a real process, real exit statuses.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult as Result, runCli } from '../support/cli.ts';




const run = runCli;

const tempDir = () => mkdtempSync(join(tmpdir(), 'e2p-cli-'));

describe('easy2phone CLI', () => {
  it('lists its commands', async () => {
    const r = await run(['--help']);
    expect(r.status).toBe(0);
    for (const cmd of ['start', 'migrate', 'admin', 'scenario']) expect(r.stdout).toContain(cmd);
  });

  it('refuses an unknown command with a non-zero status', async () => {
    const r = await run(['frobnicate']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('stops on a wrong configuration value, naming the variable', async () => {
    const r = await run(['migrate'], { E2P_HTTP_PORT: 'eighty', E2P_DATA_DIR: tempDir() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('E2P_HTTP_PORT');
  });

  it('migrates idempotently and creates staff accounts', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const env = { E2P_DATA_DIR: dir };
    expect((await run(['migrate'], env)).stdout).toContain('migrations applied');
    expect((await run(['migrate'], env)).status).toBe(0);

    const created = await run(['admin', 'create', '--email', 'Billing@Easy2Phone.be', '--role', 'billing'], env);
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/created billing account billing@easy2phone\.be with password \S{20,} \(shown once\)/);

    const again = await run(['admin', 'create', '--email', 'billing@easy2phone.be'], env);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('EMAIL_TAKEN');

    const badRole = await run(['admin', 'create', '--email', 'x@easy2phone.be', '--role', 'boss'], env);
    expect(badRole.status).toBe(1);
    expect(badRole.stderr).toMatch(/--role.*admin, billing, support, noc/);

    const weak = await run(['admin', 'create', '--email', 'y@easy2phone.be', '--password', 'short'], env);
    expect(weak.status).toBe(1);
    expect(weak.stderr).toContain('/password');
  });

  it('runs a scenario file and refuses an invalid one with status 2', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const ok = join(dir, 'ok.yaml');
    writeFileSync(ok, 'name: ok\nstart: "2027-01-04T09:00:00+01:00"\nsteps:\n  - { do: advance, to: "2027-01-06T00:00:00+01:00" }\n');
    const r = await run(['scenario', 'run', ok, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { scenario: string; steps: { ok: boolean }[] };
    expect(report.scenario).toBe('ok');
    expect(report.steps).toEqual([expect.objectContaining({ index: 0, ok: true })]);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nstart: "2027-01-04T09:00:00+01:00"\nsteps:\n  - { do: teleport }\n');
    const r2 = await run(['scenario', 'run', bad]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/steps\[0\]\.do: unknown action "teleport"/);

    const missing = await run(['scenario', 'run', join(dir, 'nope.yaml')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read the file');
  });
});

describe('easy2phone operator commands', () => {
  it('create a client, its catalogue, contract, users and numbers, with clear refusals', { timeout: 300_000 }, async () => {
    const env = { E2P_DATA_DIR: tempDir() };
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of the printed JSON
    const json = <T = unknown>(r: Result): T => {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout) as T;
    };
    const client = json<{ id: string }>(await run(['client', 'create', '--name', 'ACME SRL', '--enterprise-number', 'BE0455.218.921'], env));
    const bad = await run(['client', 'create', '--name', 'Bad', '--enterprise-number', 'BE0455.218.922'], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_ENTERPRISE_NUMBER.*enterpriseNumber/);
    expect(json<{ id: string }[]>(await run(['client', 'list', '--q', 'acme'], env)).map((c) => c.id)).toEqual([client.id]);

    json(await run(['catalog', 'product-add', '--code', 'USER', '--kind', 'recurring', '--unit', 'user', '--price', '12.50'], env));
    const early = await run(['user', 'create', '--client', client.id, '--extension', '101'], env);
    expect(early.status).toBe(1);
    expect(early.stderr).toMatch(/CONTRACT_NOT_SIGNED.*\[clause 2\.2\]/);

    const signed = json<{ state: string }>(await run(['contract', 'sign', '--client', client.id, '--line', 'USER:2'], env));
    expect(signed.state).toBe('signed');
    json(await run(['contract', 'install', '--client', client.id], env));
    const users = json<{ user: { extension: string }; credentials: { username: string; password: string } }[]>(
      await run(['user', 'create', '--client', client.id, '--extension', '101', '--count', '2'], env),
    );
    expect(users.map((u) => u.user.extension)).toEqual(['101', '102']);
    expect(users[0]!.credentials.password.length).toBeGreaterThanOrEqual(20);

    json(await run(['number', 'import', '--from', '+3243210000', '--to', '+3243210009'], env));
    const assigned = json<{ state: string }>(await run(['number', 'assign', '--client', client.id, '--number', '+3243210001', '--user', '101'], env));
    expect(assigned.state).toBe('assigned');
    const badGround = await run(['contract', 'terminate', '--client', client.id, '--by', 'client', '--ground', 'boredom'], env);
    expect(badGround.status).toBe(1);
    expect(badGround.stderr).toContain('--ground');
  });
});
