/** `easy2phone bank import FILE` as an operator runs it: a real process, real exit statuses. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/bank/${name}`, import.meta.url));

const run = runCli;

describe('easy2phone bank import', () => {
  it('refuses a malformed file with the position of the fault, then imports a valid one once', { timeout: 180_000 }, async () => {
    const env = { E2P_DATA_DIR: mkdtempSync(join(tmpdir(), 'e2p-bank-')) };
    const bad = await run(['bank', 'import', fixture('bad-trailer-sum.cod')], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('line 22, column 38');
    expect(bad.stderr).toContain('nothing imported');
    const badXml = await run(['bank', 'import', fixture('missing-amount.xml')], env);
    expect(badXml.status).toBe(1);
    expect(badXml.stderr).toContain('Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt');

    const ok = await run(['bank', 'import', fixture('statement-valid.cod')], env);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('imported CODA statement coda:BE68539007547034:2027:001');
    expect(ok.stdout).toContain('entries 6 (credits 5, debits 1), new payments 5: matched 0, unallocated 5; duplicates 0');
    const again = await run(['bank', 'import', fixture('statement-valid.cod'), '--json'], env);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyImported: true, new: 0, duplicates: 6 });
    const queue = await run(['payment', 'unallocated'], env);
    expect((JSON.parse(queue.stdout) as unknown[]).length).toBe(5);
    const ageing = await run(['payment', 'ageing', '--as-of', '2027-06-30'], env);
    expect(JSON.parse(ageing.stdout)).toMatchObject({ asOf: '2027-06-30', totals: { totalCents: 0 } });
  });
});
