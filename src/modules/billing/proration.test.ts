import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billedThrough, monthSegments, segmentAmountCents } from './proration.ts';
import { dueDateOf, formatInvoiceNumber, invoiceTotals } from './invoice-totals.ts';

describe('§8.1 months billed', () => {
  it('the worked example: 15 Jan → 28 Feb is a prorata January and a whole February', () => {
    const segs = monthSegments('2027-01-15', billedThrough('2027-01-28', null));
    expect(segs.map((s) => [s.start, s.end, s.whole])).toEqual([
      ['2027-01-15', '2027-01-31', false],
      ['2027-02-01', '2027-02-28', true],
    ]);
    expect(segs.map((s) => segmentAmountCents(1250, 3, s))).toEqual([2056, 3750]);
    expect(segmentAmountCents(100, 2, segs[0]!)).toBe(110);
    expect(segmentAmountCents(900, 1, segs[0]!)).toBe(494);
  });

  it('a start on the 1st is a whole month; on the 2nd it is pro rata', () => {
    expect(monthSegments('2027-03-01', '2027-03-31')[0]!.whole).toBe(true);
    const s = monthSegments('2027-03-02', '2027-03-31')[0]!;
    expect(s).toMatchObject({ whole: false, days: 30 });
    expect(segmentAmountCents(1250, 1, s)).toBe(1210); // 1250 × 30 / 31 = 1209.68
  });

  it('leap-year February: 29 days', () => {
    const s = monthSegments('2028-02-15', '2028-02-29')[0]!;
    expect(s).toMatchObject({ days: 15, whole: false });
    expect(segmentAmountCents(2900, 1, s)).toBe(1500);
    expect(monthSegments('2028-02-01', '2028-02-29')[0]!.whole).toBe(true);
  });

  it('rounds .5 half-up per line', () => {
    // 100 × 1 × 15 / 30 = 50; 1 × 1 × 15 / 30 = 0.5 → 1
    const s = monthSegments('2027-04-16', '2027-04-30')[0]!;
    expect(segmentAmountCents(1, 1, s)).toBe(1);
    expect(segmentAmountCents(3, 1, s)).toBe(2); // 1.5 → 2
  });

  it('never bills past the end date', () => {
    expect(billedThrough('2027-01-28', '2027-02-10')).toBe('2027-02-10');
    expect(billedThrough('2027-12-28', null)).toBe('2028-01-31');
  });

  it('properties: segments are contiguous, within one month each, and cover every day', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2026-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }), fc.integer({ min: 0, max: 120 }), (d, n) => {
        const from = d.toISOString().slice(0, 10);
        const to = new Date(d.getTime() + n * 86_400_000).toISOString().slice(0, 10);
        const segs = monthSegments(from, to);
        expect(segs.reduce((s, x) => s + x.days, 0)).toBe(n + 1);
        expect(segs[0]!.start).toBe(from);
        expect(segs.at(-1)!.end).toBe(to);
        for (const s of segs) expect(s.start.slice(0, 7)).toBe(s.end.slice(0, 7));
      }),
    );
  });
});

describe('invoice totals, due date, numbers', () => {
  it('VAT is half-up 21 % of the sum of the 21 % lines', () => {
    expect(invoiceTotals([{ amountCents: 4900, vatRate: 21 }, { amountCents: 53700, vatRate: 21 }])).toEqual({ totalExclVatCents: 58600, vatCents: 12306, totalInclVatCents: 70906 });
    expect(invoiceTotals([{ amountCents: 7517, vatRate: 21 }])).toMatchObject({ vatCents: 1579 });
    expect(invoiceTotals([{ amountCents: 50, vatRate: 21 }, { amountCents: 1000, vatRate: 0 }])).toEqual({ totalExclVatCents: 1050, vatCents: 11, totalInclVatCents: 1061 }); // 10.5 → 11
  });
  it('§5.2 due 30 days later; numbers YYYY-NNNNNN', () => {
    expect(dueDateOf('2027-01-15')).toBe('2027-02-14');
    expect(dueDateOf('2027-01-28')).toBe('2027-02-27');
    expect(formatInvoiceNumber('invoice', 2027, 1)).toBe('2027-000001');
    expect(formatInvoiceNumber('credit_note', 2027, 12)).toBe('NC2027-000012');
  });
});
