/** The documents of a stored invoice or credit note (§8): PDF and Peppol UBL, with their file names. */
import type { DbOrTx } from '../../../db/client.ts';
import { notFound } from '../../../kernel/errors.ts';
import { loadDocument, type BillingDocument } from './document.ts';
import type { PdfOptions } from './pdf.ts';
import { toUbl } from './ubl.ts';

async function load(db: DbOrTx, invoiceId: string): Promise<BillingDocument> {
  const doc = await loadDocument(db, invoiceId);
  if (!doc) throw notFound('invoice', invoiceId);
  return doc;
}

export async function invoicePdf(db: DbOrTx, invoiceId: string, opts: PdfOptions = {}): Promise<{ filename: string; body: Buffer }> {
  const doc = await load(db, invoiceId);
  // Loaded at the first PDF asked: a process that never renders one (a SIP node) does not hold
  // pdfkit and its fonts (≈ 26 MB of RSS once imported).
  const { renderPdf } = await import('./pdf.ts');
  return { filename: `${doc.number}.pdf`, body: await renderPdf(doc, opts) };
}

export async function invoiceUbl(db: DbOrTx, invoiceId: string): Promise<{ filename: string; body: string }> {
  const doc = await load(db, invoiceId);
  return { filename: `${doc.number}.xml`, body: toUbl(doc) };
}
