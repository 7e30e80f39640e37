import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { openDatabase, type Database } from './db/client.ts';
import { buildHttpServer, type HttpServer } from './http/server.ts';
import { routePlugins } from './http/routes.ts';
import { SimulatedClock, systemClock, type Clock } from './kernel/clock.ts';
import { createLogger } from './logger.ts';
import { jobDefinitions } from './scheduler/jobs.ts';
import { createScheduler, type Scheduler } from './scheduler/runner.ts';
import { schedulerSince } from './scheduler/since.ts';
import { startCallPolicy, type PolicyRuntime } from './modules/policy/index.ts';
import { openChangeFeed, type ChangeFeed } from './db/changes.ts';
import { CachedSipDirectory, findDidTarget } from './modules/provisioning/sip-directory.ts';
import type { Directory } from './telephony/directory.ts';
import { startSipServer, type SipServer } from './telephony/sip-server.ts';

export interface Platform {
  readonly ctx: AppContext;
  readonly http: HttpServer;
  readonly scheduler: Scheduler;
  /**
   * Moves a simulated clock to `to` one due instant at a time, running the jobs due at
   * each (the scenario runner's `advance`); a job failure stops it with the error.
   */
  runJobsUntil(to: Date): Promise<void>;
  /**
   * Starts the SIP service (UDP + TCP on config.sip; port 0 = ephemeral) and
   * returns the bound addresses; `close` stops it.
   */
  listenSip(): Promise<{ sip: SipServer; udp: { address: string; port: number }; tcp: { address: string; port: number } }>;
  close(): Promise<void>;
}

export interface PlatformOptions {
  clock?: Clock;
  logger?: Logger;
  /** An already opened database (tests); otherwise opened from the config. */
  database?: Database;
  /** Users and numbers for the SIP service (tests); by default the provisioning module's. */
  directory?: Directory;
}

/**
 * The telephony core reads users and numbers from provisioning, through its own interface;
 * credentials and extensions from this node's memory, kept current by the change feed. The
 * credentials are all read before the node listens (`CachedSipDirectory.preload`).
 */
async function provisioningDirectory(db: Database['db'], changes: ChangeFeed, log: Logger): Promise<Directory> {
  const users = new CachedSipDirectory(db, changes);
  const started = performance.now();
  const kept = await users.preload();
  log.info({ component: 'sip', users: kept, ms: Math.round(performance.now() - started) }, 'SIP credentials read into memory');
  return {
    findSipCredentials: (username) => users.findSipCredentials(username),
    findUserByExtension: (clientId, extension) => users.findUserByExtension(clientId, extension),
    findDidTarget: (e164) => findDidTarget(db, e164),
  };
}

/** Opens the database named by the config (PGlite in `dataDir/pglite` unless DATABASE_URL is set). */
export async function openConfiguredDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return openDatabase({ url: config.databaseUrl });
  mkdirSync(config.dataDir, { recursive: true });
  return openDatabase({ dataDir: join(config.dataDir, 'pglite') });
}

/**
 * The composition root: database (migrated), context, HTTP server. It does not
 * listen: `start` (CLI) does, tests use `inject`.
 */
export async function createPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  const log = opts.logger ?? createLogger(config.logLevel);
  const database = opts.database ?? (await openConfiguredDatabase(config));
  try {
    await database.migrate();
  } catch (e) {
    if (!opts.database) await database.close();
    throw e;
  }
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'e2p_' });
  const clock = opts.clock ?? systemClock;
  const ctx: AppContext = { config, database, db: database.db, clock, log, metrics };
  const http = await buildHttpServer(ctx, routePlugins);
  const scheduler = createScheduler({
    db: database.db,
    clock,
    log: log.child({ component: 'scheduler' }),
    jobs: jobDefinitions(ctx),
    since: await schedulerSince(database.db, clock.now()),
  });
  let sip: SipServer | undefined;
  let changes: ChangeFeed | undefined;
  let callPolicy: PolicyRuntime | undefined;
  return {
    ctx,
    http,
    scheduler,
    async listenSip() {
      if (sip) throw new Error('the SIP service is already listening');
      changes = await openChangeFeed(database);
      // issue #7: the policy's live counters per E2P_POLICY_COUNTERS, its facts cached per node
      callPolicy = await startCallPolicy({
        db: database.db,
        clock,
        ...config.policy,
        nodeId: config.sip.nodeId,
        changes,
        onError: (what, e) => log.error({ err: e }, `${what} failed`),
      });
      const started = await startSipServer(ctx, {
        directory: opts.directory ?? (await provisioningDirectory(database.db, changes, log)),
        policy: callPolicy.policy,
      });
      sip = started.server;
      return { sip, udp: started.udp, tcp: started.tcp };
    },
    async runJobsUntil(to) {
      if (!(clock instanceof SimulatedClock)) throw new Error('runJobsUntil needs a simulated clock');
      for (;;) {
        const result = await scheduler.runDue(clock.now());
        if (result.stoppedAt) {
          throw new Error(`scheduled job ${result.stoppedAt.job} (${result.stoppedAt.period}) stopped: ${result.stoppedAt.reason}`);
        }
        const next = scheduler.nextDueAt(clock.now());
        if (!next || next > to) return;
        clock.set(next);
      }
    },
    async close() {
      await sip?.close();
      await callPolicy?.close();
      await changes?.close();
      await scheduler.stop();
      await http.close();
      if (!opts.database) await database.close();
    },
  };
}
