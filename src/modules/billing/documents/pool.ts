/**
 * Documents (PDF + Peppol UBL) rendered by a pool of worker threads (issue #5: the second
 * core renders while the first reads the database). The content is the one of
 * `invoicePdf` / `invoiceUbl` (render-worker.ts calls the same functions). `renderAll`
 * streams: at most `2 × size` documents are in flight, each handed to `onDocument` and
 * dropped, so memory does not grow with the number of invoices.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DbOrTx } from '../../../db/client.ts';
import { notFound } from '../../../kernel/errors.ts';
import { loadDocument, type BillingDocument } from './document.ts';
import type { RenderReply, RenderRequest } from './render-worker.ts';

export interface RenderedDocument {
  invoiceId: string;
  number: string;
  pdf: { filename: string; body: Buffer };
  ubl: { filename: string; body: string };
}

interface Pending {
  resolve: (r: { pdf: Buffer; ubl: string }) => void;
  reject: (e: Error) => void;
}

export class DocumentPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private next = 0;

  constructor(readonly size = Math.max(1, availableParallelism() - 1)) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`document pool size must be a positive integer, got ${size}`);
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./render-worker.mjs', import.meta.url));
      w.on('message', (reply: RenderReply) => {
        const p = this.pending.get(reply.seq);
        if (!p) return;
        this.pending.delete(reply.seq);
        if ('error' in reply) p.reject(new Error(`document rendering failed: ${reply.error}`));
        else p.resolve({ pdf: Buffer.from(reply.pdf.buffer, reply.pdf.byteOffset, reply.pdf.byteLength), ubl: reply.ubl });
      });
      w.on('error', (e) => this.failAll(e));
      this.workers.push(w);
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Renders one loaded document on the next worker (round robin). */
  render(doc: BillingDocument): Promise<{ pdf: Buffer; ubl: string }> {
    const seq = this.seq++;
    const worker = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      worker.postMessage({ seq, doc } satisfies RenderRequest);
    });
  }

  /** Loads (this thread, the database) and renders (the workers) every invoice, in order, at most 2 × size in flight. */
  async renderAll(db: DbOrTx, invoiceIds: Iterable<string>, onDocument: (d: RenderedDocument) => Promise<void> | void): Promise<number> {
    const inFlight: Promise<RenderedDocument>[] = [];
    let count = 0;
    const drainOne = async (): Promise<void> => {
      await onDocument(await inFlight.shift()!);
      count++;
    };
    for (const invoiceId of invoiceIds) {
      const doc = await loadDocument(db, invoiceId);
      if (!doc) throw notFound('invoice', invoiceId);
      const rendered = this.render(doc).then((r) => ({ invoiceId, number: doc.number, pdf: { filename: `${doc.number}.pdf`, body: r.pdf }, ubl: { filename: `${doc.number}.xml`, body: r.ubl } }));
      rendered.catch(() => undefined); // awaited in order by drainOne; not an unhandled rejection meanwhile
      inFlight.push(rendered);
      if (inFlight.length >= 2 * this.size) await drainOne();
    }
    while (inFlight.length > 0) await drainOne();
    return count;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('document pool closed'));
  }
}
