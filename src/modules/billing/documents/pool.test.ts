/** Documents rendered by the worker pool are the documents rendered in this thread: same PDF bytes, same UBL. */
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_LINES, sampleDocument } from '../../../../test/support/billing-documents.ts';
import type { BillingDocument } from './document.ts';
import { renderPdf } from './pdf.ts';
import { DocumentPool, InvoiceFeed } from './pool.ts';
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

describe('invoice feed (documents rendered while the run goes)', () => {
  const drain = async (feed: InvoiceFeed): Promise<string[]> => {
    const got: string[] = [];
    for await (const id of feed) got.push(id);
    return got;
  };

  it('hands every id pushed, in order, waiting for the next one until the feed ends', async () => {
    const feed = new InvoiceFeed();
    const reading = drain(feed);
    feed.push('a');
    await new Promise((r) => setTimeout(r, 5)); // the reader waits for the next id
    feed.push('b');
    feed.push('c');
    feed.end();
    expect(await reading).toEqual(['a', 'b', 'c']);
  });

  it('keeps the ids pushed before the reader starts, also past the compaction point', async () => {
    const feed = new InvoiceFeed();
    const ids = Array.from({ length: 2500 }, (_, i) => `id-${i}`);
    for (const id of ids.slice(0, 1500)) feed.push(id);
    const reading = drain(feed);
    await new Promise((r) => setTimeout(r, 5));
    for (const id of ids.slice(1500)) feed.push(id);
    feed.end();
    expect(await reading).toEqual(ids);
  });

  it('stops the reader with the run\'s error, and refuses an id after the end', async () => {
    const feed = new InvoiceFeed();
    const reading = drain(feed);
    feed.push('a');
    feed.fail(new Error('run failed'));
    await expect(reading).rejects.toThrow('run failed');
    expect(() => feed.push('b')).toThrow(/already ended/);
  });
});
