import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stripSecrets } from './redact.ts';

describe('stripSecrets', () => {
  it('drops secret-bearing keys at any depth and keeps the rest', () => {
    const out = stripSecrets({
      id: 'a',
      email: 'x@y.be',
      passwordHash: 'scrypt$…',
      password: 'p',
      totpSecret: 'JBSW',
      totpEnabled: true,
      tokenHash: 'abc',
      tokenId: 't1',
      token: 'e2p_…',
      prefix: 'e2p_abcd',
      nested: [{ sipPassword: 'x', ha1: 'y', name: 'n' }],
      at: new Date('2027-01-01T00:00:00Z'),
    });
    expect(out).toEqual({
      id: 'a',
      email: 'x@y.be',
      totpEnabled: true,
      tokenId: 't1',
      prefix: 'e2p_abcd',
      nested: [{ name: 'n' }],
      at: '2027-01-01T00:00:00.000Z',
    });
  });

  it('never lets a secret key through (property)', () => {
    const secretKey = fc.constantFrom('password', 'passwordHash', 'totpSecret', 'tokenHash', 'secret', 'sipPassword', 'token', 'ha1');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.oneof(fc.string(), secretKey), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        const text = JSON.stringify(stripSecrets(value));
        for (const k of ['"password"', '"passwordHash"', '"totpSecret"', '"tokenHash"', '"secret"', '"sipPassword"', '"token"', '"ha1"']) {
          expect(text.includes(`${k}:`)).toBe(false);
        }
      }),
    );
  });
});
