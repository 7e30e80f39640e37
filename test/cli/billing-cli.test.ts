/** `easy2phone billing run [--dry-run]` and `easy2phone invoice show NUMBER --pdf --ubl` as an operator runs them (§8). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult as Result, runCli } from '../support/cli.ts';



const run = runCli;

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of the printed JSON
function json<T>(r: Result): T {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as T;
}

describe('easy2phone billing commands', () => {
  it('dry-run shows the next run without issuing; invoice show writes the PDF and a valid UBL', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2p-billing-cli-'));
    const env = { E2P_DATA_DIR: dir };
    const client = json<{ id: string }>(await run(['client', 'create', '--name', 'ACME SRL', '--enterprise-number', 'BE0455.218.921'], env));
    json(await run(['catalog', 'product-add', '--code', 'OPT', '--kind', 'recurring', '--unit', 'fixed', '--price', '10.00'], env));
    json(await run(['catalog', 'product-add', '--code', 'ACTIVATION', '--kind', 'one_off', '--price', '49.00'], env));
    json(await run(['contract', 'sign', '--client', client.id, '--line', 'OPT:2', '--line', 'ACTIVATION:1'], env));
    json(await run(['contract', 'install', '--client', client.id], env));

    // Today is the service start: the next run bills the started month pro rata and the next month.
    const far = new Date(Date.now() + 40 * 86_400_000).toISOString();
    const preview = json<{ dryRun: boolean; invoices: number; items: { clientId: string; lines: { type: string }[] }[] }>(await run(['billing', 'run', '--dry-run', '--at', far], env));
    expect(preview.dryRun).toBe(true);
    expect(preview.invoices).toBe(1);
    expect(preview.items[0]!.clientId).toBe(client.id);
    expect(preview.items[0]!.lines.map((l) => l.type)).toContain('recurring');
    const future = await run(['billing', 'run', '--at', far], env);
    expect(future.status).toBe(1);
    expect(future.stderr).toContain('--at');

    const year = new Date().getUTCFullYear();
    const shown = json<{ number: string; totalInclVatCents: number; ublCheck: { ok: boolean; errors: string[] } }>(
      await run(['invoice', 'show', `${year}-000001`, '--pdf', join(dir, 'a.pdf'), '--ubl', join(dir, 'a.xml')], env),
    );
    expect(shown).toMatchObject({ number: `${year}-000001`, totalInclVatCents: 5929, ublCheck: { ok: true, errors: [] } });
    expect(readFileSync(join(dir, 'a.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    expect(readFileSync(join(dir, 'a.xml'), 'utf8')).toContain('<cbc:ID>' + `${year}-000001` + '</cbc:ID>');
    // The dry run consumed no number: only the installation invoice exists.
    const missing = await run(['invoice', 'show', `${year}-000002`], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
  });
});
