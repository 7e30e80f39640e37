/**
 * Documents (PDF + Peppol UBL) rendered by a pool of worker threads (issue #5: the second
 * core renders while the first reads the database). The content is the one of
 * `invoicePdf` / `invoiceUbl` (render-worker.ts calls the same functions). `renderAll`
 * streams: at most `2 × size` documents are in flight, each handed to `onDocument` and
 * dropped, so memory does not grow with the number of invoices. Its ids may be an
 * `InvoiceFeed` that the billing run fills as clients commit (`afterClient`): the documents
 * are then rendered while the run goes (the run waits on PostgreSQL, the workers use the CPU).
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
  async renderAll(db: DbOrTx, invoiceIds: Iterable<string> | AsyncIterable<string>, onDocument: (d: RenderedDocument) => Promise<void> | void): Promise<number> {
    const inFlight: Promise<RenderedDocument>[] = [];
    let count = 0;
    const drainOne = async (): Promise<void> => {
      await onDocument(await inFlight.shift()!);
      count++;
    };
    for await (const invoiceId of invoiceIds) {
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

/**
 * Invoice ids handed from the billing run to `DocumentPool.renderAll` while the run goes:
 * `push` as each client commits, `end` when the run is over (`fail` when it failed: the
 * renderer stops with that error). An async iterable read once; ids not yet read are kept
 * (36 bytes each — the documents themselves are never kept: `renderAll` streams them).
 */
export class InvoiceFeed implements AsyncIterable<string> {
  private readonly queued: string[] = [];
  private head = 0;
  private ended = false;
  private failure: { error: unknown } | null = null;
  private wake: (() => void) | null = null;

  push(invoiceId: string): void {
    if (this.ended) throw new Error('invoice feed already ended');
    this.queued.push(invoiceId);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.end();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (this.head < this.queued.length) {
        const id = this.queued[this.head++]!;
        // The read part is dropped now and then: what is kept is only what was not read yet.
        if (this.head >= 1024) {
          this.queued.splice(0, this.head);
          this.head = 0;
        }
        yield id;
      } else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
