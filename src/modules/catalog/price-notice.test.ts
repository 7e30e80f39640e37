import { describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { assertPriceNotice, earliestEffective } from './price-notice.ts';

describe('price notice (§5.6 / §8.2)', () => {
  it('earliest effective = notice + 30 days', () => {
    expect(earliestEffective('2027-01-31')).toBe('2027-03-02');
  });
  it('exactly 30 days is accepted, 29 refused with the clause', () => {
    expect(() => assertPriceNotice('2027-03-01', '2027-03-31', '5.6')).not.toThrow();
    for (const clause of ['5.6', '8.2'] as const) {
      try {
        assertPriceNotice('2027-03-01', '2027-03-30', clause);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        expect((e as AppError).code).toBe('PRICE_NOTICE_TOO_SHORT');
        expect((e as AppError).clause).toBe(clause);
      }
    }
  });
});
