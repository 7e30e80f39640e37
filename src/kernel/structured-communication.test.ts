import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromBase, fromInvoiceNumber, isValid, parse } from './structured-communication.ts';

const base = fc.integer({ min: 0, max: 9_999_999_999 }).map((n) => String(n).padStart(10, '0'));

describe('fromBase / fromInvoiceNumber', () => {
  it('formats +++ddd/dddd/ddddd+++ with base mod 97', () => {
    expect(fromBase('2027000001')).toBe('+++202/7000/00122+++');
    expect(fromBase('2027000002')).toBe('+++202/7000/00223+++');
    expect(fromBase('0000000000')).toBe('+++000/0000/00097+++'); // mod 97 = 0 → 97
    expect(fromBase('0000000097')).toBe('+++000/0000/09797+++');
    expect(fromBase('0000000001')).toBe('+++000/0000/00101+++');
    expect(fromInvoiceNumber('2027-000001')).toBe('+++202/7000/00122+++');
    expect(fromInvoiceNumber('2027-000002')).toBe('+++202/7000/00223+++');
  });

  it.each(['202700000', '20270000011', '2027-00001', 'abcdefghij', ''])('refuses the base %j', (b) => {
    expect(() => fromBase(b)).toThrow(RangeError);
  });

  it.each(['2027-1', 'NC2027-000001', '27-000001', '2027000001'])('refuses the invoice number %j', (n) => {
    expect(() => fromInvoiceNumber(n)).toThrow(RangeError);
  });
});

describe('parse / isValid', () => {
  it.each(['+++202/7000/00122+++', '***202/7000/00122***', '202700000122', '202/7000/00122', ' +++ 202 / 7000 / 00122 +++ '])(
    'accepts %j',
    (s) => {
      expect(parse(s)).toBe('202700000122');
      expect(isValid(s)).toBe(true);
    },
  );

  it.each(['+++202/7000/00123+++', '20270000012', '2027000001220', '+++202/7000/0012a+++', '', '000000000000', '202-7000-00122'])(
    'refuses %j',
    (s) => {
      expect(parse(s)).toBeNull();
      expect(isValid(s)).toBe(false);
    },
  );

  it('round-trips fromBase through parse', () => {
    fc.assert(
      fc.property(base, (b) => {
        const digits = parse(fromBase(b));
        return digits !== null && digits.startsWith(b) && fromBase(digits.slice(0, 10)) === fromBase(b);
      }),
    );
  });

  it('detects any one-digit change', () => {
    fc.assert(
      fc.property(base, fc.nat(11), fc.integer({ min: 1, max: 9 }), (b, i, delta) => {
        const d = parse(fromBase(b))!;
        return !isValid(d.slice(0, i) + String((Number(d[i]) + delta) % 10) + d.slice(i + 1));
      }),
    );
  });
});
