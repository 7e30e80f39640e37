/**
 * The scenario actions of every module, registered once: each module exports its own
 * handlers (one per action) from a `scenario.ts` beside its services, listed here.
 */
import { catalogScenario } from '../modules/catalog/scenario.ts';
import { customersScenario } from '../modules/customers/scenario.ts';
import { provisioningScenario } from '../modules/provisioning/scenario.ts';
import { policyScenario } from '../modules/policy/scenario.ts';
import { billingScenario } from '../modules/billing/scenario.ts';
import { paymentsScenario } from '../modules/payments/scenario.ts';
import type { ActionHandler, ReportFinisher, ScenarioRun } from './runner.ts';

export interface ModuleScenario {
  actions: Record<string, ActionHandler>;
  finishers?: ReportFinisher[];
  /** Runs once before the first step (e.g. loading the scenario's `catalog`). */
  setup?: (run: ScenarioRun) => Promise<void>;
}

export const moduleScenarios: ModuleScenario[] = [catalogScenario, customersScenario, provisioningScenario, policyScenario, billingScenario, paymentsScenario];
