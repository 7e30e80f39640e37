/**
 * What a process loads before it needs it (issue #4, memory of a SIP node): PGlite (≈ 48 MB of
 * RSS once imported) only when the database is PGlite, pdfkit and its fonts (≈ 26 MB) only at
 * the first PDF. A child process imports the platform and the CLI's start with a resolve hook
 * that writes down every module it loads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'e2p-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The URLs of the modules a child process loads running `code` (an ES module body). */
function modulesLoadedBy(code: string): string[] {
  const log = join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  writeFileSync(log, '');
  execFileSync(process.execPath, ['--import', 'tsx', '--import', register, '--input-type=module', '-e', code], { cwd: process.cwd(), stdio: 'pipe' });
  return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
}

describe('modules loaded at start-up', () => {
  it('the platform and the CLI load neither PGlite nor pdfkit until they need them (a SIP node on PostgreSQL never does)', () => {
    const loaded = modulesLoadedBy(`await import('./src/app.ts'); await import('./src/cli/start.ts');`);
    expect(loaded.some((u) => u.endsWith('/src/app.ts'))).toBe(true); // the hook saw the imports
    expect(loaded.filter((u) => /@electric-sql\/pglite|drizzle-orm\/pglite|\/pdfkit\/|\/fontkit\//u.test(u))).toEqual([]);
  });

  it('opening a PGlite database loads PGlite then, and still no pdfkit', () => {
    const loaded = modulesLoadedBy(`const { openDatabase } = await import('./src/db/client.ts'); const d = await openDatabase(); await d.close();`);
    expect(loaded.some((u) => u.includes('@electric-sql/pglite'))).toBe(true);
    expect(loaded.some((u) => u.includes('/pdfkit/'))).toBe(false);
  });
});
