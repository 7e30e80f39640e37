// Worker entry point: the TypeScript sources run through tsx's loader, as bin/easy2phone.mjs does.
import { register } from 'tsx/esm/api';

register();
await import('./render-worker.ts');
