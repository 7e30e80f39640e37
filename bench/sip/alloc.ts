/**
 * The bytes allocated per function (self) in a sampling heap profile written by
 * `BENCH_ALLOC_PROFILE=<file> npm run bench:sip` (garbage included):
 * `npx tsx bench/sip/alloc.ts <file> [top]`.
 */
import { readFileSync } from 'node:fs';

interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

const [file, top = '40'] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: alloc.ts <file.heapprofile> [top]');
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocNode };
const self = new Map<string, number>();
let total = 0;
const walk = (n: AllocNode): void => {
  const f = n.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|src|bench)\//u, '$1/')}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + n.selfSize);
  total += n.selfSize;
  n.children.forEach(walk);
};
walk(head);
process.stdout.write(`${(total / 2 ** 20).toFixed(1)} MiB sampled in all\n`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${(v / 2 ** 20).toFixed(1).padStart(7)} MiB  ${k}\n`);
}
