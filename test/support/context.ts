import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import type { Database } from '../../src/db/client.ts';
import { SimulatedClock } from '../../src/kernel/clock.ts';
import { createLogger } from '../../src/logger.ts';

/** An AppContext over a test database, with a simulated clock and silent logs. */
export function testContext(database: Database, start = '2027-01-04T09:00:00+01:00'): AppContext & { clock: SimulatedClock } {
  return {
    config: loadConfig({ E2P_LOG_LEVEL: 'silent' }),
    database,
    db: database.db,
    clock: new SimulatedClock(start),
    log: createLogger('silent'),
    metrics: new Registry(),
  };
}
