import { dirname, resolve } from 'node:path';
import { createPlatform, type Platform } from '../app.ts';
import { loadConfig } from '../config.ts';
import { freshMemoryDatabase } from '../db/template.ts';
import { SimulatedClock } from '../kernel/clock.ts';
import { isAppError } from '../kernel/errors.ts';
import { formatLocalInstant } from '../kernel/time.ts';
import { listEvents } from '../modules/events/index.ts';
import { moduleScenarios } from './actions.ts';
import { createLogger } from '../logger.ts';
import { loadScenario, parseInstant, ScenarioFileError, type Scenario, type ScenarioStep } from './file.ts';
import type { Report } from './report.ts';

/** A scenario being run: the fresh platform, its simulated clock and the report being built. */
export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly platform: Platform;
  readonly clock: SimulatedClock;
  readonly report: Report;
  /** Folder of the scenario file (relative paths in steps are resolved from it). */
  readonly baseDir: string;
  /** The scenario's client names (`acme`) and the platform's client ids, both ways. */
  readonly clientIds: Map<string, string>;
  readonly clientNames: Map<string, string>;
  /** The platform id of a scenario client; a file error naming the field when unknown. */
  clientId(name: unknown, where: string): string;
  /** Moves the simulated clock to `to`, running every scheduled job due on the way. */
  advanceTo(to: Date): Promise<void>;
}

/** One handler per action, registered by the module that owns it. */
export interface ActionHandler {
  run(run: ScenarioRun, step: ScenarioStep): Promise<void>;
}

const actions = new Map<string, ActionHandler>();
/** Fill a part of the report at the end of a run (clients, invoices…), registered by its module. */
export type ReportFinisher = (run: ScenarioRun) => Promise<void>;
const finishers: ReportFinisher[] = [];

export function registerReportFinisher(finisher: ReportFinisher): void {
  finishers.push(finisher);
}

export function registerAction(name: string, handler: ActionHandler): void {
  if (actions.has(name)) throw new Error(`scenario action ${name} registered twice`);
  actions.set(name, handler);
}

registerAction('advance', {
  async run(run, step) {
    const to = step.fields.to;
    if (typeof to !== 'string') throw new ScenarioFileError(`steps[${step.index}].to`, 'required, an instant');
    const instant = parseInstant(to, `steps[${step.index}].to`);
    if (instant < run.clock.now()) throw new ScenarioFileError(`steps[${step.index}].to`, 'is earlier than the clock');
    await run.advanceTo(instant);
  },
});

let modulesRegistered = false;
function registerModules(): void {
  if (modulesRegistered) return;
  modulesRegistered = true;
  for (const m of moduleScenarios) {
    for (const [name, handler] of Object.entries(m.actions)) registerAction(name, handler);
    for (const f of m.finishers ?? []) registerReportFinisher(f);
  }
}

export async function runScenario(scenario: Scenario, opts: { baseDir?: string } = {}): Promise<Report> {
  registerModules();
  const unknown = scenario.steps.find((s) => !actions.has(s.do));
  if (unknown) {
    throw new ScenarioFileError(`steps[${unknown.index}].do`, `unknown action "${unknown.do}" (known: ${[...actions.keys()].sort().join(', ')})`);
  }
  const clock = new SimulatedClock(scenario.start);
  const database = await freshMemoryDatabase();
  const config = loadConfig({ E2P_LOG_LEVEL: 'silent' });
  const platform = await createPlatform(config, { clock, database, logger: createLogger('silent') });
  const report: Report = { scenario: scenario.name, steps: [], invoices: [], calls: [], events: [], clients: [] };
  const run: ScenarioRun = {
    scenario,
    platform,
    clock,
    report,
    baseDir: opts.baseDir ?? process.cwd(),
    clientIds: new Map(),
    clientNames: new Map(),
    clientId(name, where) {
      const id = typeof name === 'string' ? this.clientIds.get(name) : undefined;
      if (!id) throw new ScenarioFileError(where, `unknown client ${JSON.stringify(name)} (create it first with client.create)`);
      return id;
    },
    async advanceTo(to) {
      await platform.runJobsUntil(to);
      clock.set(to);
    },
  };
  try {
    for (const m of moduleScenarios) await m.setup?.(run);
    for (const step of scenario.steps) {
      if (step.at) {
        if (step.at < clock.now()) {
          throw new ScenarioFileError(`steps[${step.index}].at`, `${step.atText ?? ''} is earlier than the clock (${formatLocalInstant(clock.now())})`);
        }
        await run.advanceTo(step.at);
      }
      const at = formatLocalInstant(clock.now());
      try {
        await actions.get(step.do)!.run(run, step);
        report.steps.push({ index: step.index, do: step.do, at, ok: true });
      } catch (e) {
        if (!isAppError(e)) throw e;
        report.steps.push({ index: step.index, do: step.do, at, ok: false, error: { code: e.code, clause: e.clause, message: e.message } });
      }
    }
    for (const e of await listEvents(platform.ctx.db)) {
      report.events.push({
        at: formatLocalInstant(e.at),
        client: e.clientId ? (run.clientNames.get(e.clientId) ?? e.clientId) : null,
        type: e.type,
        clause: e.clause,
        details: e.details,
      });
    }
    for (const finish of finishers) await finish(run);
    return report;
  } finally {
    await platform.close();
    await database.close();
  }
}

export async function runScenarioFile(path: string): Promise<Report> {
  return runScenario(loadScenario(path), { baseDir: dirname(resolve(path)) });
}
