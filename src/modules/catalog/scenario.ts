/**
 * Scenario side of the catalogue (SCENARIOS.md): the `catalog.products` and
 * `catalog.tariffs` of the file are loaded before the first step (in force from the
 * start date; `catalog.numbers` is provisioning's), and the `price.change` action
 * (product price, pack content, or tariff zone; the notice is sent at the step's `at`).
 */
import { isAppError } from '../../kernel/errors.ts';
import { parseEuros, parseEurosToMicros } from '../../kernel/money.ts';
import { isLocalDate, localDate } from '../../kernel/time.ts';
import type { ModuleScenario } from '../../scenario/actions.ts';
import { ScenarioFileError } from '../../scenario/file.ts';
import { amountAt, where } from '../../scenario/fields.ts';
import type { ScenarioRun } from '../../scenario/runner.ts';
import { changeProductPrice, changeTariff } from './change-price.ts';
import { createProduct } from './create-product.ts';
import { createTariffZone } from './create-tariff-zone.ts';
import { PRODUCT_KINDS, PRODUCT_UNITS, type ProductKind, type ProductUnit } from './schema.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(value: unknown, at: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ScenarioFileError(at, 'a list of strings');
  return value as string[];
}

async function asFileError<T>(at: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAppError(e) && (e.kind === 'validation' || e.kind === 'conflict')) throw new ScenarioFileError(`${at}${e.field ?? ''}`, e.message);
    throw e;
  }
}

async function loadCatalog(run: ScenarioRun): Promise<void> {
  const ctx = run.platform.ctx;
  const effective = localDate(run.clock.now());
  const { tariffs = [], products = [] } = run.scenario.catalog;
  if (!Array.isArray(tariffs)) throw new ScenarioFileError('catalog.tariffs', 'expected a list');
  if (!Array.isArray(products)) throw new ScenarioFileError('catalog.products', 'expected a list');
  for (const [i, t] of tariffs.entries()) {
    const at = `catalog.tariffs[${i}]`;
    if (!isRecord(t) || typeof t.zone !== 'string') throw new ScenarioFileError(at, 'expected { zone, prefixes, perMinute }');
    const zone = t.zone;
    const prefixes = stringList(t.prefixes, `${at}.prefixes`);
    const perMinuteMicros = amountAt(t.perMinute, `${at}.perMinute`, parseEurosToMicros);
    await asFileError(at, () => createTariffZone(ctx, { actor: 'system', zone, prefixes, perMinuteMicros, effective }));
  }
  for (const [i, p] of products.entries()) {
    const at = `catalog.products[${i}]`;
    if (!isRecord(p) || typeof p.code !== 'string') throw new ScenarioFileError(at, 'expected { code, kind, … }');
    const kind = p.kind;
    if (typeof kind !== 'string' || !(PRODUCT_KINDS as readonly string[]).includes(kind)) throw new ScenarioFileError(`${at}.kind`, PRODUCT_KINDS.join(', '));
    const unit = p.unit;
    if (unit !== undefined && (typeof unit !== 'string' || !(PRODUCT_UNITS as readonly string[]).includes(unit))) {
      throw new ScenarioFileError(`${at}.unit`, PRODUCT_UNITS.join(', '));
    }
    const periodic = kind === 'recurring' || kind === 'pack';
    const priceField = periodic ? 'monthly' : 'price';
    const priceCents = amountAt(p[priceField], `${at}.${priceField}`, parseEuros);
    const minutes = p.minutes;
    if (minutes !== undefined && (typeof minutes !== 'number' || !Number.isSafeInteger(minutes) || minutes < 0)) {
      throw new ScenarioFileError(`${at}.minutes`, 'a whole number of minutes');
    }
    const warranty = p.warrantyMonths;
    if (warranty !== undefined && (typeof warranty !== 'number' || !Number.isSafeInteger(warranty) || warranty < 0)) {
      throw new ScenarioFileError(`${at}.warrantyMonths`, 'a whole number of months');
    }
    const code = p.code;
    await asFileError(at, () =>
      createProduct(ctx, {
        actor: 'system',
        code,
        name: typeof p.name === 'string' ? p.name : undefined,
        kind: kind as ProductKind,
        unit: unit as ProductUnit | undefined,
        warrantyMonths: warranty,
        priceCents,
        packMinutes: minutes,
        packZones: p.zones === undefined ? undefined : stringList(p.zones, `${at}.zones`),
        effective,
      }),
    );
  }
}

export const catalogScenario: ModuleScenario = {
  setup: loadCatalog,
  actions: {
    'price.change': {
      async run(run, step) {
        const f = step.fields;
        const effective = f.effective;
        if (typeof effective !== 'string' || !isLocalDate(effective)) throw new ScenarioFileError(where(step, 'effective'), 'required, a date YYYY-MM-DD');
        const ctx = run.platform.ctx;
        if (typeof f.product === 'string' && f.zone === undefined) {
          const minutes = f.minutes;
          if (minutes !== undefined && (typeof minutes !== 'number' || !Number.isSafeInteger(minutes) || minutes < 0)) {
            throw new ScenarioFileError(where(step, 'minutes'), 'a whole number of minutes');
          }
          await changeProductPrice(ctx, {
            actor: 'system',
            productCode: f.product,
            priceCents: f.price === undefined ? undefined : amountAt(f.price, where(step, 'price'), parseEuros),
            packMinutes: minutes,
            packZones: f.zones === undefined ? undefined : stringList(f.zones, where(step, 'zones')),
            effective,
          });
          return;
        }
        if (typeof f.zone === 'string' && f.product === undefined) {
          await changeTariff(ctx, {
            actor: 'system',
            zone: f.zone,
            perMinuteMicros: f.price === undefined ? undefined : amountAt(f.price, where(step, 'price'), parseEurosToMicros),
            prefixes: f.prefixes === undefined ? undefined : stringList(f.prefixes, where(step, 'prefixes')),
            effective,
          });
          return;
        }
        throw new ScenarioFileError(where(step, 'product'), 'exactly one of product or zone');
      },
    },
  },
};
