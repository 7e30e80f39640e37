/**
 * The scenario actions of every module, registered once: each module exports its own
 * handlers (one per action) from a `scenario.ts` beside its services, listed here.
 */
import type { ActionHandler, ReportFinisher } from './runner.ts';

export interface ModuleScenario {
  actions: Record<string, ActionHandler>;
  finishers?: ReportFinisher[];
}

export const moduleScenarios: ModuleScenario[] = [];
