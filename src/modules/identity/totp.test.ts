import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, otpauthUri, totp, verifyTotp } from './totp.ts';

const seed20 = Buffer.from('12345678901234567890', 'ascii');
const seed32 = Buffer.from('12345678901234567890123456789012', 'ascii');
const seed64 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii');

// RFC 6238 Appendix B (8 digits).
const VECTORS: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(VECTORS)('test vector at T=%i', (t, sha1, sha256, sha512) => {
    const at = new Date(t * 1000);
    expect(totp(seed20, at, { digits: 8 })).toBe(sha1);
    expect(totp(seed32, at, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totp(seed64, at, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('RFC 4226 Appendix D HOTP values', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expected.forEach((code, counter) => expect(hotp(seed20, counter)).toBe(code));
  });

  it('base32 round-trips and matches RFC 4648 examples', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('MZXW6YTBOI======').toString()).toBe('foobar');
    expect(base32Decode('mzxw 6ytb oi').toString()).toBe('foobar');
    expect(() => base32Decode('MZ1')).toThrow(RangeError);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      expect([...base32Decode(base32Encode(bytes))]).toEqual([...bytes]);
    }));
  });

  it('accepts ±1 step, refuses ±2 and a step already used', () => {
    const secret = base32Encode(seed20);
    const at = new Date(1_800_000_000_000);
    const step = Math.floor(at.getTime() / 30_000);
    const code = (s: number) => hotp(seed20, s);
    expect(verifyTotp(secret, code(step), at, null)).toBe(step);
    expect(verifyTotp(secret, code(step - 1), at, null)).toBe(step - 1);
    expect(verifyTotp(secret, code(step + 1), at, null)).toBe(step + 1);
    expect(verifyTotp(secret, code(step - 2), at, null)).toBeNull();
    expect(verifyTotp(secret, code(step + 2), at, null)).toBeNull();
    expect(verifyTotp(secret, code(step), at, step)).toBeNull(); // reuse
    expect(verifyTotp(secret, code(step - 1), at, step - 1)).toBeNull();
    expect(verifyTotp(secret, code(step + 1), at, step)).toBe(step + 1);
    expect(verifyTotp(secret, '12345', at, null)).toBeNull();
    expect(verifyTotp(secret, 'abcdef', at, null)).toBeNull();
  });

  it('builds an otpauth URI', () => {
    const uri = otpauthUri({ issuer: 'Easy2Phone', account: 'ann@example.be', secret: 'JBSWY3DPEHPK3PXP' });
    expect(uri).toBe('otpauth://totp/Easy2Phone:ann%40example.be?secret=JBSWY3DPEHPK3PXP&issuer=Easy2Phone&algorithm=SHA1&digits=6&period=30');
  });
});
