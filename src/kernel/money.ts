/**
 * Integer money (RULES.md, Conventions): amounts are euro cents, per-minute tariffs
 * micro-euros (1 € = 1 000 000 µ€). No floating point ever touches an amount: every
 * product is computed in `bigint` and the result is checked to be a safe integer.
 */

/** Euro cents, a safe integer. */
export type Cents = number;
/** Micro-euros (µ€), a safe integer. */
export type Micros = number;

/** Throws a RangeError unless `value` is a safe integer (and ≥ 0 when `nonNegative`). */
export function assertSafeInteger(value: number, name: string, nonNegative = false): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer, got ${value}`);
  if (nonNegative && value < 0) throw new RangeError(`${name} must not be negative, got ${value}`);
}

/** Converts a bigint result back to a number, refusing anything beyond ±(2^53 − 1). */
export function toSafeInteger(value: bigint, name = 'value'): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${name} ${value} exceeds the safe integer range`);
  }
  return Number(value);
}

/** Exact sum; intermediate totals may exceed 2^53, the result may not. */
export function sumCents(amounts: Iterable<Cents>): Cents {
  let total = 0n;
  for (const a of amounts) {
    assertSafeInteger(a, 'amount');
    total += BigInt(a);
  }
  return toSafeInteger(total, 'sum');
}

function parseDecimal(input: string, decimals: number): number {
  const m = typeof input === 'string' ? /^(-?)(\d+)(?:\.(\d+))?$/.exec(input) : null;
  const fraction = m?.[3] ?? '';
  if (!m || fraction.length > decimals) {
    throw new RangeError(`invalid euro amount ${JSON.stringify(input)}: expected digits with at most ${decimals} decimals`);
  }
  const magnitude = BigInt(m[2]! + fraction.padEnd(decimals, '0'));
  const value = toSafeInteger(m[1] === '-' ? -magnitude : magnitude, `euro amount ${JSON.stringify(input)}`);
  return value === 0 ? 0 : value; // never -0
}

/** "12.50" → 1250; at most 2 decimals, optional leading '-'; anything else is a RangeError. */
export const parseEuros = (input: string): Cents => parseDecimal(input, 2);

/** "0.025" → 25000 µ€; at most 6 decimals, optional leading '-'. */
export const parseEurosToMicros = (input: string): Micros => parseDecimal(input, 6);

/** 1250 → "12.50", -5 → "-0.05" (plain decimal, no grouping, no symbol). */
export function formatEuros(cents: Cents | bigint): string {
  if (typeof cents === 'number') assertSafeInteger(cents, 'cents');
  const value = BigInt(cents);
  const magnitude = (value < 0n ? -value : value).toString().padStart(3, '0');
  return `${value < 0n ? '-' : ''}${magnitude.slice(0, -2)}.${magnitude.slice(-2)}`;
}

export type MoneyLocale = 'fr-BE' | 'nl-BE' | 'en';

const localeFormats = new Map<MoneyLocale, Intl.NumberFormat>();

/**
 * Localised display: fr-BE "12,50 €", nl-BE "€ 12,50", en "€12.50". The spaces are the
 * CLDR ones (U+00A0 before €, U+202F as fr-BE thousands separator). Exact: the
 * amount is handed to Intl as a decimal string, never as a float.
 */
export function formatEurosLocale(cents: Cents | bigint, locale: MoneyLocale): string {
  let format = localeFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' });
    localeFormats.set(locale, format);
  }
  return format.format(formatEuros(cents) as Intl.StringNumericLiteral);
}

function assertNonZero(denominator: bigint): void {
  if (denominator === 0n) throw new RangeError('division by zero');
}

/** numerator / denominator rounded to the nearest integer, .5 away from zero (Conventions: half-up). */
export function roundHalfUpDiv(numerator: bigint, denominator: bigint): bigint {
  assertNonZero(denominator);
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (2n * n + d) / (2n * d);
  return (numerator < 0n) !== (denominator < 0n) ? -q : q;
}

/** ⌈a / b⌉ for any signs. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  assertNonZero(b);
  const q = a / b; // truncates toward zero
  return a % b !== 0n && (a < 0n) === (b < 0n) ? q + 1n : q;
}

/** ⌊a / b⌋ for any signs. */
export function floorDiv(a: bigint, b: bigint): bigint {
  assertNonZero(b);
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** §8.3: cost of a call, per second, rounded up to the next cent: ⌈s × µ€/min ÷ 600 000⌉. */
export function callCostCents(billableSeconds: number, perMinuteMicros: Micros): Cents {
  assertSafeInteger(billableSeconds, 'billableSeconds', true);
  assertSafeInteger(perMinuteMicros, 'perMinuteMicros', true);
  // 60 s per minute × 10 000 µ€ per cent
  return toSafeInteger(ceilDiv(BigInt(billableSeconds) * BigInt(perMinuteMicros), 600_000n), 'call cost');
}

/** §5.1: VAT on an amount excluding VAT, half-up to the cent (21 % for category S). */
export function vatCents(baseCents: Cents, ratePercent: number): Cents {
  assertSafeInteger(baseCents, 'baseCents');
  assertSafeInteger(ratePercent, 'ratePercent', true);
  return toSafeInteger(roundHalfUpDiv(BigInt(baseCents) * BigInt(ratePercent), 100n), 'VAT');
}

/** §8.1: a partial month, monthly × quantity × days / daysInMonth, half-up per line. */
export function prorata(monthlyCents: Cents, quantity: number, days: number, daysInMonth: number): Cents {
  assertSafeInteger(monthlyCents, 'monthlyCents');
  assertSafeInteger(quantity, 'quantity', true);
  assertSafeInteger(days, 'days', true);
  assertSafeInteger(daysInMonth, 'daysInMonth', true);
  if (daysInMonth === 0 || days > daysInMonth) throw new RangeError(`days ${days} must lie within a month of ${daysInMonth} days`);
  const numerator = BigInt(monthlyCents) * BigInt(quantity) * BigInt(days);
  return toSafeInteger(roundHalfUpDiv(numerator, BigInt(daysInMonth)), 'prorata');
}

/** One stretch of days during which an invoice's outstanding amount (VAT included) did not change. */
export interface InterestPeriod {
  amountCents: Cents;
  days: number;
}

/**
 * §5.2: simple late interest, Σ amount × rate × days / 365 over the periods, rounded
 * half-up once (per invoice). The annual rate is in basis points: 12 % = 1200.
 */
export function accruedInterestCents(periods: Iterable<InterestPeriod>, annualRateBasisPoints: number): Cents {
  assertSafeInteger(annualRateBasisPoints, 'annualRateBasisPoints', true);
  let numerator = 0n;
  for (const { amountCents, days } of periods) {
    assertSafeInteger(amountCents, 'amountCents');
    assertSafeInteger(days, 'days', true);
    numerator += BigInt(amountCents) * BigInt(days);
  }
  return toSafeInteger(roundHalfUpDiv(numerator * BigInt(annualRateBasisPoints), 10_000n * 365n), 'interest');
}

/** §5.2 for a single amount outstanding `days` days: amount × rate × days / 365, half-up. */
export const simpleInterestCents = (amountCents: Cents, annualRateBasisPoints: number, days: number): Cents =>
  accruedInterestCents([{ amountCents, days }], annualRateBasisPoints);
