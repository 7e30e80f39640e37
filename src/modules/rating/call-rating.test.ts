import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callCostCents } from '../../kernel/money.ts';
import { rateCalls, type PackPool, type RatableCall } from './call-rating.ts';
import { packAllowanceSeconds, serviceDaysInMonth } from './pack-allowance.ts';

const ZONES = ['BE-FIXED', 'BE-MOBILE', 'FR'] as const;
const call = fc.record({
  zone: fc.option(fc.constantFrom(...ZONES), { nil: null }),
  perMinuteMicros: fc.integer({ min: 0, max: 5_000_000 }),
  billableSeconds: fc.integer({ min: 0, max: 20_000 }),
});
const pool = fc.record({ zones: fc.subarray([...ZONES]), seconds: fc.integer({ min: 0, max: 40_000 }) });

describe('§8.3 rateCalls', () => {
  it('covers a call partly and prices the remainder with the same formula', () => {
    const calls: RatableCall[] = [
      { id: 'a', zone: 'BE-MOBILE', perMinuteMicros: 85_000, billableSeconds: 100 },
      { id: 'b', zone: 'BE-MOBILE', perMinuteMicros: 85_000, billableSeconds: 100 },
      { id: 'c', zone: 'FR', perMinuteMicros: 40_000, billableSeconds: 100 },
    ];
    const pools: PackPool[] = [{ product: 'PACK', zones: ['BE-FIXED', 'BE-MOBILE'], seconds: 150 }];
    expect(rateCalls(calls, pools)).toEqual([
      { id: 'a', packSeconds: 100, costCents: 0 },
      { id: 'b', packSeconds: 50, costCents: callCostCents(50, 85_000) },
      { id: 'c', packSeconds: 0, costCents: 7 },
    ]);
  });

  it('keeps invoiced calls as they are, still consuming their pack seconds', () => {
    const rated = rateCalls(
      [
        { id: 'x', zone: 'BE-FIXED', perMinuteMicros: 25_000, billableSeconds: 60, fixed: { packSeconds: 60, costCents: 0 } },
        { id: 'y', zone: 'BE-FIXED', perMinuteMicros: 25_000, billableSeconds: 60 },
      ],
      [{ product: 'P', zones: ['BE-FIXED'], seconds: 90 }],
    );
    expect(rated[1]).toEqual({ id: 'y', packSeconds: 30, costCents: callCostCents(30, 25_000) });
  });

  it('properties: never negative, pack seconds ≤ call and ≤ allowance, deterministic, cost = formula on the remainder', () => {
    fc.assert(
      fc.property(fc.array(call, { maxLength: 30 }), fc.array(pool, { maxLength: 3 }), (raw, rawPools) => {
        const calls = raw.map((c, i) => ({ ...c, id: String(i) }));
        const pools = rawPools.map((p, i) => ({ ...p, product: `P${i}` }));
        const rated = rateCalls(calls, pools);
        expect(rateCalls(calls, pools)).toEqual(rated);
        let used = 0;
        rated.forEach((r, i) => {
          const c = calls[i]!;
          expect(r.packSeconds).toBeGreaterThanOrEqual(0);
          expect(r.costCents).toBeGreaterThanOrEqual(0);
          expect(r.packSeconds).toBeLessThanOrEqual(c.billableSeconds);
          if (c.zone === null) expect(r).toMatchObject({ packSeconds: 0, costCents: 0 });
          else expect(r.costCents).toBe(callCostCents(c.billableSeconds - r.packSeconds, c.perMinuteMicros));
          used += r.packSeconds;
        });
        expect(used).toBeLessThanOrEqual(pools.reduce((s, p) => s + p.seconds, 0));
      }),
    );
  });
});

describe('§8.3 packAllowanceSeconds', () => {
  it('prorates the start month and rounds down (worked example: 17/31 of 500 min)', () => {
    expect(packAllowanceSeconds({ minutes: 500, quantity: 1, month: '2027-01-01', serviceStart: '2027-01-15', endDate: null })).toBe(16451);
    expect(packAllowanceSeconds({ minutes: 500, quantity: 2, month: '2027-02-01', serviceStart: '2027-01-15', endDate: null })).toBe(60_000);
    expect(packAllowanceSeconds({ minutes: 500, quantity: 1, month: '2027-01-01', serviceStart: '2027-01-01', endDate: null })).toBe(30_000);
    expect(packAllowanceSeconds({ minutes: 100, quantity: 1, month: '2028-02-01', serviceStart: '2028-02-02', endDate: null })).toBe(Math.floor((6000 * 28) / 29));
    expect(packAllowanceSeconds({ minutes: 100, quantity: 1, month: '2027-03-01', serviceStart: '2027-01-01', endDate: '2027-03-10' })).toBe(Math.floor((6000 * 10) / 31));
  });

  it('properties: between 0 and the full allowance', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 28 }), (minutes, quantity, day) => {
        const start = `2027-02-${String(day).padStart(2, '0')}`;
        const s = packAllowanceSeconds({ minutes, quantity, month: '2027-02-01', serviceStart: start, endDate: null });
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(minutes * quantity * 60);
        expect(serviceDaysInMonth('2027-02-01', start, null)).toBe(29 - day);
      }),
    );
  });
});
