/**
 * A document worker (pool.ts): renders the PDF and the Peppol UBL of the documents it is
 * sent (content exactly as `invoicePdf` / `invoiceUbl`: the same `renderPdf` and `toUbl`).
 */
import { parentPort } from 'node:worker_threads';
import type { BillingDocument } from './document.ts';
import { renderPdf } from './pdf.ts';
import { toUbl } from './ubl.ts';

export interface RenderRequest {
  seq: number;
  doc: BillingDocument;
}
export type RenderReply = { seq: number; pdf: Uint8Array; ubl: string } | { seq: number; error: string };

const port = parentPort;
if (port === null) throw new Error('render-worker.ts runs in a worker thread only');
port.on('message', (req: RenderRequest) => {
  // Inside a promise: a throw while rendering becomes an error reply, never the worker's death.
  Promise.resolve()
    .then(async () => ({ pdf: await renderPdf(req.doc), ubl: toUbl(req.doc) }))
    .then(
      ({ pdf, ubl }) => {
        const bytes = new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength);
        port.postMessage({ seq: req.seq, pdf: bytes, ubl } satisfies RenderReply);
      },
      (e: unknown) => port.postMessage({ seq: req.seq, error: e instanceof Error ? e.message : String(e) } satisfies RenderReply),
    );
});
