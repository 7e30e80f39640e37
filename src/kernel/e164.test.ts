import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isE164, isEmergency, isExtensionSyntax, longestPrefixMatch, normaliseDialled } from './e164.ts';

const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...Array.from('0123456789')), { minLength: min, maxLength: max }).map((a) => a.join(''));
/** A Belgian national significant number: 8 or 9 digits, the first non-zero. */
const belgianNsn = fc.tuple(fc.constantFrom(...Array.from('123456789')), digits(7, 8)).map(([a, b]) => a + b);

describe('normaliseDialled', () => {
  it.each([
    ['02 123 45 67', '+3221234567'],
    ['0475/12.34.56', '+32475123456'],
    ['0475-12-34-56', '+32475123456'],
    ['+32 2 123 45 67', '+3221234567'],
    ['+32 (0)2 123 45 67', '+3221234567'],
    ['+32 0475 12 34 56', '+32475123456'],
    ['0032 475 12 34 56', '+32475123456'],
    ['0033 1 23 45 67 89', '+33123456789'],
    ['+44 (0)20 7946 0958', '+442079460958'],
    ['0800 12 345', '+3280012345'],
    ['+1 (212) 555-0100', '+12125550100'],
  ])('%j → %s', (input, expected) => {
    expect(normaliseDialled(input)).toEqual({ kind: 'e164', number: expected });
  });

  it('keeps short numbers as they are', () => {
    expect(normaliseDialled('112')).toEqual({ kind: 'short', number: '112' });
    expect(normaliseDialled(' 1 0 1 ')).toEqual({ kind: 'short', number: '101' });
    expect(normaliseDialled('100')).toEqual({ kind: 'short', number: '100' });
    expect(normaliseDialled('1733').kind).toBe('invalid');
    expect(normaliseDialled('1733', { shortNumbers: ['1733'] })).toEqual({ kind: 'short', number: '1733' });
    expect(normaliseDialled('112', { shortNumbers: ['1733'] })).toEqual({ kind: 'short', number: '112' });
  });

  it.each(['', '   ', 'abc', '+', '+0123456789', '000123456789', '02 123', '04751234567', '+32 2 12', '00', '++32475123456', '12345678901234567', '+3247512345678901', 'sip:alice', '0475 12 34 56 ext 3'])(
    'refuses %j with a reason',
    (input) => {
      const r = normaliseDialled(input);
      expect(r.kind).toBe('invalid');
      if (r.kind === 'invalid') expect(r.reason).not.toBe('');
    },
  );

  it('never throws and always returns a well-formed result', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
        const r = normaliseDialled(s);
        return r.kind === 'e164' ? isE164(r.number) : r.kind === 'short' ? isEmergency(r.number) : r.reason.length > 0;
      }),
    );
  });

  it('is idempotent', () => {
    const dialled = fc.oneof(
      fc.string({ unit: fc.constantFrom(...Array.from('0123456789+ ./()-')) }),
      belgianNsn.map((n) => `0${n}`),
      digits(8, 15).map((n) => `00${n}`),
    );
    fc.assert(
      fc.property(dialled, (s) => {
        const r = normaliseDialled(s);
        return r.kind === 'invalid' || JSON.stringify(normaliseDialled(r.number)) === JSON.stringify(r);
      }),
    );
  });

  it('0X, +32X, 0032X and +32 0X are the same number', () => {
    fc.assert(
      fc.property(belgianNsn, (x) => {
        const expected = { kind: 'e164', number: `+32${x}` };
        return [`0${x}`, `+32${x}`, `0032${x}`, `+32 0${x}`, `+32 (0)${x}`].every(
          (s) => JSON.stringify(normaliseDialled(s)) === JSON.stringify(expected),
        );
      }),
    );
  });
});

describe('isE164', () => {
  it('checks + and 8 to 15 digits, the first non-zero', () => {
    expect(isE164('+3221234567')).toBe(true);
    expect(isE164('+12345678')).toBe(true);
    expect(isE164('+123456789012345')).toBe(true);
    expect(isE164('+1234567')).toBe(false);
    expect(isE164('+1234567890123456')).toBe(false);
    expect(isE164('+0221234567')).toBe(false);
    expect(isE164('3221234567')).toBe(false);
    expect(isE164('+32 2 123 45 67')).toBe(false);
    expect(isE164('+3221234567\n')).toBe(false);
  });
});

describe('isEmergency §8.7', () => {
  it('uses the Belgian list by default, or the given one', () => {
    expect(['112', '100', '101'].every((n) => isEmergency(n))).toBe(true);
    expect(isEmergency('+32112')).toBe(false);
    expect(isEmergency('110')).toBe(false);
    expect(isEmergency('110', ['110', '112'])).toBe(true);
    expect(isEmergency('100', ['112'])).toBe(false);
  });
});

describe('longestPrefixMatch §8.3', () => {
  const zones: [string, string][] = [
    ['+32', 'belgium-fixed'],
    ['+324', 'belgium-mobile'],
    ['+3290', 'belgium-premium'],
    ['+33', 'france'],
    ['+324', 'duplicate'],
  ];

  it('picks the longest matching prefix', () => {
    expect(longestPrefixMatch('+32475123456', zones)).toEqual({ prefix: '+324', value: 'belgium-mobile' });
    expect(longestPrefixMatch('+3290012345', zones)).toEqual({ prefix: '+3290', value: 'belgium-premium' });
    expect(longestPrefixMatch('+3221234567', zones)).toEqual({ prefix: '+32', value: 'belgium-fixed' });
    expect(longestPrefixMatch('+441234567', zones)).toBeNull();
    expect(longestPrefixMatch('+32475', new Map([['+32', 1]]))).toEqual({ prefix: '+32', value: 1 });
    expect(longestPrefixMatch('+32', [])).toBeNull();
  });

  it('returns a prefix of the number no shorter than any other matching one', () => {
    fc.assert(
      fc.property(digits(1, 12), fc.array(digits(0, 6), { maxLength: 30 }), (n, ps) => {
        const best = longestPrefixMatch(n, ps.map((p, i) => [p, i] as const));
        const matching = ps.filter((p) => n.startsWith(p));
        if (best === null) return matching.length === 0;
        return (
          n.startsWith(best.prefix) &&
          matching.every((p) => p.length <= best.prefix.length) &&
          ps.indexOf(best.prefix) === best.value
        );
      }),
    );
  });
});

describe('extension syntax (the dialling plan)', () => {
  it('is 2 to 6 digits, nothing else', () => {
    expect(['10', '101', '123456'].map(isExtensionSyntax)).toEqual([true, true, true]);
    expect(['1', '1234567', '0475123456', '+32', '1a', ''].map(isExtensionSyntax)).toEqual([false, false, false, false, false, false]);
  });
});
