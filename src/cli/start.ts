import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { createPlatform, openConfiguredDatabase } from '../app.ts';
import type { Config, SipTrunk } from '../config.ts';
import type { AppContext } from '../context.ts';
import { startEmbeddedMaintenance } from '../db/maintenance.ts';
import { ensureFirstAdmin } from '../modules/identity/first-admin.ts';
import { verifyPassword } from '../modules/identity/password.ts';
import { accounts } from '../modules/identity/schema.ts';

/** The file holding the generated first admin password until it is changed. */
export const initialPasswordFile = (config: Config): string => join(config.dataDir, 'initial-admin-password');

export async function runMigrate(config: Config): Promise<void> {
  const database = await openConfiguredDatabase(config);
  try {
    await database.migrate();
    process.stdout.write(`migrations applied (${database.kind})\n`);
  } finally {
    await database.close();
  }
}

export async function runStart(config: Config): Promise<void> {
  // Listen for the stop signals first: one arriving during start-up (or right after the
  // banner) must stop the platform cleanly, not kill it half-way.
  let signalled = '';
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      signalled = signal;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const platform = await createPlatform(config);
  const { ctx } = platform;
  const admin = await ensureFirstAdminCredentials(platform.ctx, config);
  let sip: Awaited<ReturnType<typeof platform.listenSip>>;
  try {
    sip = await platform.listenSip();
    await platform.http.listen({ host: config.http.host, port: config.http.port });
  } catch (e) {
    await platform.close();
    throw e;
  }
  platform.scheduler.start();
  // The embedded database has no autovacuum: its upkeep once a minute (nothing on a PostgreSQL server).
  const maintenance = startEmbeddedMaintenance(ctx.database, {
    onPass: (actions, ms) => {
      if (actions.length > 0) ctx.log.info({ component: 'db-maintenance', ms: Math.round(ms), actions }, 'embedded database vacuumed/analysed');
    },
    onError: (e) => ctx.log.error({ component: 'db-maintenance', err: e }, 'embedded database maintenance failed'),
  });
  const address = platform.http.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.http.port;
  const base = config.http.port === 0 ? config.http.publicUrl.replace(/:0$/, `:${httpPort}`) : config.http.publicUrl;

  const lines = [
    'Easy2Phone is running',
    `  Portal / API : ${base}/  (API docs: ${base}/api/docs, OpenAPI: ${base}/api/docs/json)`,
    `  SIP          : sip:${config.sip.domain}:${sip.udp.port} (UDP ${sip.udp.address}:${sip.udp.port}, TCP ${sip.tcp.address}:${sip.tcp.port})`,
    `  Carrier trunk: ${trunkText(config.sip.trunk, 'none (E2P_SIP_TRUNK): external numbers get 503')}; emergency route: ${trunkText(config.sip.emergencyRoute ?? config.sip.trunk, 'none')}`,
    `  Database     : ${config.databaseUrl ? 'PostgreSQL server (DATABASE_URL)' : `embedded PGlite in ${join(config.dataDir, 'pglite')}`}`,
    `  Operator admin: ${admin}`,
    '  Stop with Ctrl-C.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  ctx.log.info({ http: base, database: ctx.database.kind }, 'started');

  await stopped;
  ctx.log.info({ signal: signalled }, 'stopping');
  await maintenance.stop();
  await platform.close();
}

/** Creates the first operator admin when there is none, and says how to log in. */
async function ensureFirstAdminCredentials(ctx: AppContext, config: Config): Promise<string> {
  const file = initialPasswordFile(config);
  const result = await ensureFirstAdmin(ctx, { email: config.admin.email, password: config.admin.password });
  if (result.password) {
    writeFileSync(file, `${result.email}\n${result.password}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return `${result.email} / ${result.password}  (generated now; also in ${file})`;
  }
  if (result.created) return `${result.email} / (password from E2P_ADMIN_PASSWORD)`;
  if (existsSync(file)) {
    // Printed at each start until the admin changes it; then the file goes.
    const [email, password] = readFileSync(file, 'utf8').split('\n');
    if (email && password && (await stillValid(ctx, email, password))) {
      return `${email} / ${password}  (generated at first start, from ${file}; change it)`;
    }
  }
  rmSync(file, { force: true });
  return `${result.email} (password already set)`;
}

async function stillValid(ctx: AppContext, email: string, password: string): Promise<boolean> {
  const [row] = await ctx.db.select({ hash: accounts.passwordHash }).from(accounts).where(sql`lower(${accounts.email}) = ${email.toLowerCase()}`);
  return row?.hash ? verifyPassword(password, row.hash) : false;
}

/** `sip:HOST:PORT (UDP)` of a trunk setting, or what its absence means. */
function trunkText(t: SipTrunk | undefined, none: string): string {
  return t === undefined ? none : `sip:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port} (${t.transport})`;
}
