/** Documents rendered by the worker pool are the documents rendered in this thread: same PDF bytes, same UBL. */
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_LINES, sampleDocument } from '../../../../test/support/billing-documents.ts';
import type { BillingDocument } from './document.ts';
import { renderPdf } from './pdf.ts';
import { DocumentPool } from './pool.ts';
import { toUbl } from './ubl.ts';

describe('document worker pool', () => {
  const pool = new DocumentPool(2);
  afterAll(async () => pool.close());

  it('renders the same PDF and UBL as renderPdf / toUbl, for every language, several at once', async () => {
    const docs = (['fr', 'nl', 'en'] as const).map((language) => sampleDocument({ language, lines: RUN_LINES }));
    const rendered = await Promise.all(docs.map((d) => pool.render(d)));
    for (const [i, d] of docs.entries()) {
      expect(rendered[i]!.ubl).toBe(toUbl(d));
      expect(rendered[i]!.pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(rendered[i]!.pdf.equals(await renderPdf(d))).toBe(true);
    }
  });

  it('a document that cannot be rendered is a clear error, and the pool keeps working', async () => {
    const broken = { ...sampleDocument({ lines: RUN_LINES }), lines: null } as unknown as BillingDocument;
    await expect(pool.render(broken)).rejects.toThrow(/document rendering failed/);
    const ok = sampleDocument({ lines: RUN_LINES });
    expect((await pool.render(ok)).ubl).toBe(toUbl(ok));
  });

  it('refuses a pool without workers', () => {
    expect(() => new DocumentPool(0)).toThrow(/positive integer/);
  });
});
