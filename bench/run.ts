/** `npm run bench -- NAME`: runs bench/NAME.ts, which prints its parameters and figures. */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const name = process.argv[2];
const available = readdirSync(fileURLToPath(new URL('.', import.meta.url)))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME   (one of: ${available.join(', ')})\n`);
  process.exit(2);
}
await import(`./${name}.ts`);
