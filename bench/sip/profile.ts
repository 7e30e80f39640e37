/** The top self-time frames of a V8 `.cpuprofile` (node --cpu-prof), as text lines. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export function summariseProfile(file: string, top: number): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    if (!n) return;
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`);
}

/** Self time grouped by where the code lives (database driver, ORM, our SIP stack, …), as text lines. */
export function profileByArea(file: string): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const area = (f: ProfileNode['callFrame']): string => {
    const u = f.url;
    if (!u) return f.functionName.startsWith('(') ? f.functionName : `native ${f.functionName}`.trim();
    if (u.startsWith('wasm://') || u.includes('@electric-sql/pglite')) return 'PGlite (WASM PostgreSQL + glue)';
    if (u.includes('/pg/') || u.includes('pg-protocol') || u.includes('pg-pool')) return 'pg driver';
    if (u.includes('drizzle-orm')) return 'drizzle-orm';
    if (u.includes('/src/sip/')) return 'src/sip (parser, transactions, digest)';
    if (u.includes('/src/telephony/')) return 'src/telephony';
    if (u.includes('/src/modules/')) return 'src/modules (policy, provisioning, …)';
    if (u.startsWith('node:')) return 'Node.js core (dgram, crypto, …)';
    if (u.includes('node_modules')) return 'other node_modules';
    return 'other';
  };
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    if (n) self.set(area(n.callFrame), (self.get(area(n.callFrame)) ?? 0) + dt);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .filter(([, us]) => us / total >= 0.005)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`);
}
