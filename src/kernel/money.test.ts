import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  accruedInterestCents,
  callCostCents,
  ceilDiv,
  floorDiv,
  formatEuros,
  formatEurosLocale,
  parseEuros,
  parseEurosToMicros,
  prorata,
  roundHalfUpDiv,
  simpleInterestCents,
  sumCents,
  toSafeInteger,
  vatCents,
} from './money.ts';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const big = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });
const nonZeroBig = big.filter((b) => b !== 0n);
const abs = (b: bigint): bigint => (b < 0n ? -b : b);
const safeCents = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

describe('parseEuros / parseEurosToMicros', () => {
  it('parses plain decimals', () => {
    expect(parseEuros('12.50')).toBe(1250);
    expect(parseEuros('12.5')).toBe(1250);
    expect(parseEuros('12')).toBe(1200);
    expect(parseEuros('0.01')).toBe(1);
    expect(parseEuros('-0.05')).toBe(-5);
    expect(Object.is(parseEuros('-0.00'), 0)).toBe(true);
    expect(parseEurosToMicros('0.025')).toBe(25_000);
    expect(parseEurosToMicros('1')).toBe(1_000_000);
    expect(parseEurosToMicros('-0.000001')).toBe(-1);
    expect(parseEuros('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each(['', ' 1', '1 ', '12,50', '1.234', '+1', '.5', '5.', '1e3', '--1', 'NaN', '12.5€', '1_000', '90071992547409.92'])(
    'refuses %j naming the input',
    (input) => {
      expect(() => parseEuros(input)).toThrow(RangeError);
      expect(() => parseEuros(input)).toThrow(JSON.stringify(input));
    },
  );

  it('refuses a 7th micro decimal and non-strings', () => {
    expect(() => parseEurosToMicros('0.0000001')).toThrow(RangeError);
    expect(() => parseEuros(12.5 as unknown as string)).toThrow(RangeError);
  });

  it('round-trips with formatEuros', () => {
    fc.assert(fc.property(safeCents, (c) => parseEuros(formatEuros(c)) === c));
  });
});

describe('formatEuros', () => {
  it('formats cents', () => {
    expect(formatEuros(1250)).toBe('12.50');
    expect(formatEuros(0)).toBe('0.00');
    expect(formatEuros(-5)).toBe('-0.05');
    expect(formatEuros(-100)).toBe('-1.00');
    expect(formatEuros(12_345_678_901_234_567_890n)).toBe('123456789012345678.90');
    expect(() => formatEuros(1.5)).toThrow(RangeError);
  });

  it('formats per locale without floats', () => {
    expect(formatEurosLocale(1250, 'fr-BE')).toBe('12,50\u00a0€');
    expect(formatEurosLocale(1250, 'nl-BE')).toBe('€\u00a012,50');
    expect(formatEurosLocale(1250, 'en')).toBe('€12.50');
    expect(formatEurosLocale(-123_456_789, 'fr-BE')).toBe('-1\u202f234\u202f567,89\u00a0€');
    expect(formatEurosLocale(Number.MAX_SAFE_INTEGER, 'en')).toBe('€90,071,992,547,409.91');
  });
});

describe('roundHalfUpDiv', () => {
  it('rounds .5 away from zero, exact for negatives', () => {
    expect(roundHalfUpDiv(5n, 2n)).toBe(3n);
    expect(roundHalfUpDiv(-5n, 2n)).toBe(-3n);
    expect(roundHalfUpDiv(5n, -2n)).toBe(-3n);
    expect(roundHalfUpDiv(-5n, -2n)).toBe(3n);
    expect(roundHalfUpDiv(7n, 3n)).toBe(2n);
    expect(roundHalfUpDiv(-7n, 3n)).toBe(-2n);
    expect(roundHalfUpDiv(0n, 7n)).toBe(0n);
    expect(() => roundHalfUpDiv(1n, 0n)).toThrow(RangeError);
  });

  it('is the nearest integer, ties away from zero', () => {
    fc.assert(
      fc.property(big, nonZeroBig, (n, d) => {
        const q = roundHalfUpDiv(n, d);
        // 2|d|·|n/d − q| = |2n − 2qd| ≤ |d|; on a tie, q lies farther from zero than n/d
        const err = abs(2n * n - 2n * q * d);
        return err < abs(d) || (err === abs(d) && abs(q * d) > abs(n));
      }),
    );
    fc.assert(fc.property(big, nonZeroBig, (n, d) => roundHalfUpDiv(-n, d) === -roundHalfUpDiv(n, d)));
  });
});

describe('ceilDiv / floorDiv', () => {
  it('handles every sign', () => {
    expect(ceilDiv(7n, 2n)).toBe(4n);
    expect(ceilDiv(-7n, 2n)).toBe(-3n);
    expect(ceilDiv(7n, -2n)).toBe(-3n);
    expect(ceilDiv(-7n, -2n)).toBe(4n);
    expect(ceilDiv(6n, 2n)).toBe(3n);
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(7n, -2n)).toBe(-4n);
    expect(floorDiv(-7n, -2n)).toBe(3n);
    expect(() => ceilDiv(1n, 0n)).toThrow(RangeError);
    expect(() => floorDiv(1n, 0n)).toThrow(RangeError);
  });

  it('brackets the exact quotient', () => {
    fc.assert(
      fc.property(big, nonZeroBig, (a, b) => {
        const c = ceilDiv(a, b);
        const f = floorDiv(a, b);
        const pos = b > 0n;
        // f ≤ a/b ≤ c, and c − f ∈ {0, 1}
        const fOk = pos ? f * b <= a && (f + 1n) * b > a : f * b >= a && (f + 1n) * b < a;
        const cOk = pos ? c * b >= a && (c - 1n) * b < a : c * b <= a && (c - 1n) * b > a;
        return fOk && cOk && c - f === (a % b === 0n ? 0n : 1n);
      }),
    );
  });
});

describe('callCostCents §8.3', () => {
  it('rounds each call up to the next cent', () => {
    expect(callCostCents(60, 25_000)).toBe(3); // 0.025 €/min for a minute = 2.5 c → 3
    expect(callCostCents(1, 1)).toBe(1);
    expect(callCostCents(0, 25_000)).toBe(0);
    expect(callCostCents(61, 600_000)).toBe(61); // 0.60 €/min = 1 c/s
    expect(callCostCents(120, 150_000)).toBe(30);
    expect(() => callCostCents(-1, 1)).toThrow(RangeError);
    expect(() => callCostCents(1.5, 1)).toThrow(RangeError);
  });

  it('is the smallest cent amount covering the exact price', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 100_000_000 }), (s, m) => {
        const c = BigInt(callCostCents(s, m));
        const exact = BigInt(s) * BigInt(m); // in 1/600 000 of a cent
        return c * 600_000n >= exact && (c - 1n) * 600_000n < exact;
      }),
    );
  });
});

describe('vatCents §5.1', () => {
  it('rounds half-up', () => {
    expect(vatCents(1000, 21)).toBe(210);
    expect(vatCents(250, 21)).toBe(53); // 52.5
    expect(vatCents(-250, 21)).toBe(-53);
    expect(vatCents(1, 21)).toBe(0);
    expect(vatCents(1000, 0)).toBe(0);
    expect(() => vatCents(100, 2.5)).toThrow(RangeError);
  });

  it('is odd and within half a cent', () => {
    fc.assert(fc.property(fc.integer({ min: -1e12, max: 1e12 }), (b) => vatCents(-b, 21) === -vatCents(b, 21)));
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (b) => Math.abs(vatCents(b, 21) * 100 - b * 21) <= 50),
    );
  });
});

describe('prorata §8.1', () => {
  it('bills monthly × quantity × days / daysInMonth half-up', () => {
    expect(prorata(1000, 1, 15, 30)).toBe(500);
    expect(prorata(1000, 3, 10, 31)).toBe(968); // 967.74
    expect(prorata(999, 1, 14, 28)).toBe(500); // 499.5
    expect(prorata(1000, 2, 31, 31)).toBe(2000);
    expect(prorata(1000, 2, 0, 31)).toBe(0);
    expect(prorata(-999, 1, 14, 28)).toBe(-500);
    expect(() => prorata(1000, 1, 32, 31)).toThrow(RangeError);
    expect(() => prorata(1000, 1, 0, 0)).toThrow(RangeError);
  });

  it('never exceeds the whole month and is monotonic in days', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 28, max: 31 }),
        fc.nat(),
        (m, q, dim, seed) => {
          const d = seed % (dim + 1);
          const p = prorata(m, q, d, dim);
          return p <= m * q && p >= 0 && (d === 0 || p >= prorata(m, q, d - 1, dim));
        },
      ),
    );
  });
});

describe('late interest §5.2', () => {
  it('computes amount × 12 % × days / 365 half-up', () => {
    expect(simpleInterestCents(100_000, 1200, 365)).toBe(12_000);
    expect(simpleInterestCents(121_000, 1200, 10)).toBe(398); // 397.81
    expect(simpleInterestCents(121_000, 1200, 0)).toBe(0);
    expect(simpleInterestCents(1000, 1200, 1)).toBe(0); // 0.33
    expect(simpleInterestCents(36_500, 1200, 125)).toBe(1500);
  });

  it('sums the periods before rounding once', () => {
    // each period alone rounds to 0 (0.33 c), together 1.0 c
    const periods = [1, 2, 3].map(() => ({ amountCents: 1000, days: 1 }));
    expect(accruedInterestCents(periods, 1200)).toBe(1);
    expect(accruedInterestCents([], 1200)).toBe(0);
    expect(() => accruedInterestCents([{ amountCents: 1, days: -1 }], 1200)).toThrow(RangeError);
  });

  it('splitting the days does not change the result', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e10 }), fc.nat(3650), fc.nat(3650), (a, d1, d2) =>
        accruedInterestCents(
          [
            { amountCents: a, days: d1 },
            { amountCents: a, days: d2 },
          ],
          1200,
        ) === simpleInterestCents(a, 1200, d1 + d2),
      ),
    );
  });
});

describe('sumCents / toSafeInteger', () => {
  it('sums exactly and refuses unsafe results', () => {
    expect(sumCents([Number.MAX_SAFE_INTEGER, 1, -1])).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => sumCents([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
    expect(() => sumCents([0.5])).toThrow(RangeError);
    expect(toSafeInteger(MAX)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toSafeInteger(-MAX - 1n)).toThrow(RangeError);
  });
});
