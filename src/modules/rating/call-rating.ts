/**
 * §8.3 call pricing with packs, pure: calls of one client and one calendar month, in
 * start order, consume the pack seconds of their zone; the remainder of each call is
 * priced `ceil(seconds × µ€/min ÷ 600 000)` (kernel `callCostCents`). Deterministic:
 * the same calls and pools always give the same result.
 */
import { callCostCents } from '../../kernel/money.ts';

export interface RatableCall {
  readonly id: string;
  /** null: not priced (emergency, internal, no zone matches) — cost 0, no pack. */
  readonly zone: string | null;
  readonly perMinuteMicros: number;
  readonly billableSeconds: number;
  /** Already invoiced: its rating stands; its pack seconds still count against the pools. */
  readonly fixed?: { packSeconds: number; costCents: number };
}

export interface PackPool {
  readonly product: string;
  readonly zones: readonly string[];
  /** Allowance of the month (pack-allowance.ts). */
  readonly seconds: number;
}

export interface RatedCall {
  readonly id: string;
  readonly packSeconds: number;
  readonly costCents: number;
}

/** Rates `calls` (in call start order) against the month's `pools` (consumed in the order given). */
export function rateCalls(calls: readonly RatableCall[], pools: readonly PackPool[]): RatedCall[] {
  const left = pools.map((p) => ({ zones: new Set(p.zones), seconds: Math.max(0, p.seconds) }));
  const take = (zone: string, wanted: number): number => {
    let taken = 0;
    for (const pool of left) {
      if (taken === wanted) break;
      if (!pool.zones.has(zone) || pool.seconds === 0) continue;
      const t = Math.min(pool.seconds, wanted - taken);
      pool.seconds -= t;
      taken += t;
    }
    return taken;
  };
  return calls.map((c) => {
    if (c.fixed) {
      if (c.zone !== null) take(c.zone, c.fixed.packSeconds);
      return { id: c.id, packSeconds: c.fixed.packSeconds, costCents: c.fixed.costCents };
    }
    if (c.zone === null || c.billableSeconds <= 0) return { id: c.id, packSeconds: 0, costCents: 0 };
    const packSeconds = take(c.zone, c.billableSeconds);
    return { id: c.id, packSeconds, costCents: callCostCents(c.billableSeconds - packSeconds, c.perMinuteMicros) };
  });
}
