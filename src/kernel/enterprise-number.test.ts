import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { enterpriseCheckDigits, parseEnterpriseNumber } from './enterprise-number.ts';

const expected = { digits: '0455218921', formatted: 'BE0455.218.921' };
/** 8 digits starting with 0 or 1, completed with their check. */
const valid = fc
  .tuple(fc.constantFrom('0', '1'), fc.integer({ min: 0, max: 9_999_999 }))
  .map(([first, rest]) => {
    const eight = first + String(rest).padStart(7, '0');
    return eight + enterpriseCheckDigits(eight);
  });

describe('parseEnterpriseNumber', () => {
  it.each(['BE0455.218.921', '0455218921', 'BE 0455 218 921', '455218921', 'be0455218921', ' 0455.218.921 '])(
    'accepts %j',
    (input) => {
      expect(parseEnterpriseNumber(input)).toEqual(expected);
    },
  );

  it.each([
    '0455218922', // wrong check
    '2455218921', // first digit 2
    'BE0455.218.92',
    '04552189210',
    'FR0455218921',
    'BE-0455-218-921',
    '',
    'BE',
    '0455 218 92a',
    '45521892', // 8 digits
  ])('refuses %j', (input) => {
    expect(parseEnterpriseNumber(input)).toBeNull();
  });

  it('accepts the check 97 (first eight ≡ 0 mod 97) and the 1xxx range', () => {
    expect(enterpriseCheckDigits('00000097')).toBe('97');
    expect(parseEnterpriseNumber('0000009797')?.formatted).toBe('BE0000.009.797');
    const eight = '10000000';
    expect(parseEnterpriseNumber(eight + enterpriseCheckDigits(eight))?.digits).toBe(eight + enterpriseCheckDigits(eight));
    expect(() => enterpriseCheckDigits('1234567')).toThrow(RangeError);
  });

  it('validates 8 digits + computed check, in any accepted spelling', () => {
    fc.assert(
      fc.property(valid, (d) => {
        const formatted = `BE${d.slice(0, 4)}.${d.slice(4, 7)}.${d.slice(7)}`;
        return [d, formatted, `BE ${d.slice(0, 4)} ${d.slice(4, 7)} ${d.slice(7)}`, ...(d.startsWith('0') ? [d.slice(1)] : [])].every(
          (s) => JSON.stringify(parseEnterpriseNumber(s)) === JSON.stringify({ digits: d, formatted }),
        );
      }),
    );
  });

  it('invalidates any one-digit change', () => {
    fc.assert(
      fc.property(valid, fc.nat(9), fc.integer({ min: 1, max: 9 }), (d, i, delta) => {
        const changed = d.slice(0, i) + String((Number(d[i]) + delta) % 10) + d.slice(i + 1);
        return parseEnterpriseNumber(changed) === null;
      }),
    );
  });
});
