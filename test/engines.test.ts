/**
 * The platform promises Node.js ≥ 20.19 (package.json `engines`): every installed package
 * must accept it, or a fresh install on that version may break at run time.
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { expect, it } from 'vitest';

interface Lock {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
}

it('every locked dependency accepts Node.js 20.19', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
  expect(pkg.engines.node).toBe('>=20.19');
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as Lock;
  const refused = Object.entries(lock.packages)
    .filter(([, p]) => p.engines && !Array.isArray(p.engines) && typeof p.engines.node === 'string')
    .filter(([, p]) => !semver.satisfies('20.19.0', (p.engines as { node: string }).node))
    .map(([name, p]) => `${name}@${p.version ?? '?'} needs node ${(p.engines as { node: string }).node}`);
  expect(refused).toEqual([]);
});
