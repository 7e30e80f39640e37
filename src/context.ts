import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from './config.ts';
import type { Database, Db } from './db/client.ts';
import type { Clock } from './kernel/clock.ts';

/** What every service function, route and job may use: built once by the composition root. */
export interface AppContext {
  readonly config: Config;
  readonly database: Database;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Registry;
}
