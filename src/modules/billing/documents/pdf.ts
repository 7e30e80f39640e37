/**
 * The PDF of an invoice or credit note (§8 "Each invoice exists as a PDF (French by
 * default; Dutch and English too)"), with the mentions a Belgian invoice must carry
 * (AR TVA n° 1 art. 5): seller and buyer names, addresses, VAT / enterprise numbers;
 * number and date; period; lines with quantity, unit price, amount and VAT rate; VAT per
 * rate; totals excl. and incl. VAT; due date (§5.2); IBAN, BIC and the structured
 * communication; for 0 % lines the "outside the scope of VAT" mention. Amounts are
 * formatted from integer cents as strings, never through a float. Deterministic: the
 * creation date is the issue date, so the same invoice gives the same bytes.
 */
import PDFDocument from 'pdfkit';
import { PAYMENT_TERM_DAYS } from '../invoice-totals.ts';
import type { BillingDocument } from './document.ts';
import { LABELS } from './labels.ts';
import { formatEnterpriseNumber, formatIban, type DocumentLanguage } from './parties.ts';

export interface PdfOptions {
  /** Uncompressed content streams (tests read the text from them). */
  compress?: boolean;
}

function groupThousands(digits: string, sep: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/** Cents as money in the document's language: fr "1 234,56 €", nl "€ 1.234,56", en "€1,234.56". */
export function formatMoney(cents: number | bigint, language: DocumentLanguage, decimals = 2): string {
  const scale = 10n ** BigInt(decimals);
  const v = BigInt(cents);
  const abs = v < 0n ? -v : v;
  const whole = (abs / scale).toString();
  const frac = (abs % scale).toString().padStart(decimals, '0');
  const sign = v < 0n ? '-' : '';
  if (language === 'en') return `${sign}€${groupThousands(whole, ',')}.${frac}`;
  if (language === 'nl') return `€ ${sign}${groupThousands(whole, '.')},${frac}`;
  return `${sign}${groupThousands(whole, ' ')},${frac} €`;
}

/** Unit price = amount / quantity: exact in cents when it divides, else to 4 decimals half-up (prorata lines). */
export function unitPrice(amountCents: number, quantity: number, language: DocumentLanguage): string {
  if (quantity === 0) return '';
  if (amountCents % quantity === 0) return formatMoney(amountCents / quantity, language);
  const num = BigInt(amountCents) * 100n;
  const q = BigInt(Math.abs(quantity));
  const abs = num < 0n ? -num : num;
  const r = (2n * abs + q) / (2n * q);
  return formatMoney((num < 0n) !== (quantity < 0) ? -r : r, language, 4);
}

export const formatDate = (d: string): string => `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;

const MARGIN = 50;
const WIDTH = 595.28 - 2 * MARGIN;

/** Renders the document; resolves with the PDF bytes. */
export function renderPdf(doc: BillingDocument, opts: PdfOptions = {}): Promise<Buffer> {
  const L = LABELS[doc.language];
  const lang = doc.language;
  const { seller, buyer } = doc.parties;
  const title = doc.kind === 'credit_note' ? L.creditNote : L.invoice;
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: opts.compress ?? true,
    info: { Title: `${title} ${doc.number}`, Author: seller.name, Subject: `${title} ${doc.number} — ${buyer.name}`, CreationDate: new Date(`${doc.issueDate}T00:00:00Z`) },
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  // Seller (left) and document title (right).
  const top = MARGIN;
  pdf.font('Helvetica-Bold').fontSize(14).text(seller.name, MARGIN, top, { width: WIDTH / 2 });
  pdf.font('Helvetica').fontSize(9);
  pdf.text(seller.address.street, { width: WIDTH / 2 });
  pdf.text(`${seller.address.postalCode} ${seller.address.city} (${seller.address.country})`, { width: WIDTH / 2 });
  pdf.text(`${L.vatNumber} ${formatEnterpriseNumber(seller.enterpriseNumber)}`, { width: WIDTH / 2 });
  if (seller.register) pdf.text(seller.register, { width: WIDTH / 2 });
  pdf.text(`IBAN ${formatIban(seller.iban)} — BIC ${seller.bic}`, { width: WIDTH / 2 });
  if (seller.email) pdf.text(seller.email, { width: WIDTH / 2 });
  const afterSeller = pdf.y;

  pdf.font('Helvetica-Bold').fontSize(18).text(title, MARGIN + WIDTH / 2, top, { width: WIDTH / 2, align: 'right' });
  pdf.font('Helvetica').fontSize(10);
  const meta: [string, string][] = [
    [L.number, doc.number],
    [L.issueDate, formatDate(doc.issueDate)],
  ];
  if (doc.kind === 'invoice') meta.push([L.dueDate, formatDate(doc.dueDate)]);
  if (doc.periodStart && doc.periodEnd) meta.push([L.period, `${formatDate(doc.periodStart)} – ${formatDate(doc.periodEnd)}`]);
  if (doc.credited) meta.push([L.creditedInvoice, `${doc.credited.number} (${formatDate(doc.credited.issueDate)})`]);
  for (const [k, v] of meta) pdf.text(`${k} : ${v}`, MARGIN + WIDTH / 2, pdf.y, { width: WIDTH / 2, align: 'right' });
  const afterMeta = pdf.y;

  // Buyer.
  let y = Math.max(afterSeller, afterMeta) + 20;
  pdf.font('Helvetica-Bold').fontSize(10).text(L.buyer, MARGIN + WIDTH / 2, y, { width: WIDTH / 2 });
  pdf.font('Helvetica').fontSize(10).text(buyer.name, { width: WIDTH / 2 });
  if (buyer.address) {
    pdf.text(buyer.address.street, { width: WIDTH / 2 });
    pdf.text(`${buyer.address.postalCode} ${buyer.address.city} (${buyer.address.country})`, { width: WIDTH / 2 });
  }
  if (buyer.enterpriseNumber) pdf.text(`${L.vatNumber} ${formatEnterpriseNumber(buyer.enterpriseNumber)}`, { width: WIDTH / 2 });
  if (doc.reason) {
    pdf.moveDown(0.5).text(`${L.reason} : ${doc.reason}`, MARGIN, pdf.y, { width: WIDTH });
  }

  // Lines.
  y = pdf.y + 20;
  const cols = [
    { label: L.description, x: MARGIN, w: 215, align: 'left' as const },
    { label: L.quantity, x: MARGIN + 215, w: 45, align: 'right' as const },
    { label: L.unitPrice, x: MARGIN + 260, w: 85, align: 'right' as const },
    { label: L.vatRate, x: MARGIN + 345, w: 65, align: 'right' as const },
    { label: L.amount, x: MARGIN + 410, w: WIDTH - 410, align: 'right' as const },
  ];
  const row = (cells: string[], bold = false): void => {
    if (y > 760) {
      pdf.addPage();
      y = MARGIN;
    }
    pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8.5);
    let h = 0;
    cells.forEach((c, i) => {
      const col = cols[i]!;
      h = Math.max(h, pdf.heightOfString(c, { width: col.w - 4 }));
      pdf.text(c, col.x, y, { width: col.w - 4, align: col.align });
    });
    y += h + 4;
  };
  row(cols.map((c) => c.label), true);
  pdf.moveTo(MARGIN, y - 2).lineTo(MARGIN + WIDTH, y - 2).stroke();
  for (const l of doc.lines) {
    const period = l.periodStart && l.periodEnd ? `\n${formatDate(l.periodStart)} – ${formatDate(l.periodEnd)}` : '';
    const rate = l.category === 'S' ? `${l.vatRate} %` : `0 % (${L.outOfScopeShort})`;
    row([`${l.text}${period}`, String(l.quantity), unitPrice(l.amountCents, l.quantity, lang), rate, formatMoney(l.amountCents, lang)]);
  }
  pdf.moveTo(MARGIN, y).lineTo(MARGIN + WIDTH, y).stroke();
  y += 10;

  // VAT per rate, then totals.
  row([L.vatBreakdown, '', L.taxableBase, L.vatRate, L.vat], true);
  for (const b of doc.vatBreakdown) {
    row([b.category === 'S' ? `${L.vat} ${b.rate} %` : L.outOfScope, '', formatMoney(b.taxableCents, lang), `${b.rate} %`, formatMoney(b.taxCents, lang)]);
  }
  y += 8;
  row([L.totalExcl, '', '', '', formatMoney(doc.totalExclVatCents, lang)], true);
  row([L.totalVat, '', '', '', formatMoney(doc.vatCents, lang)], true);
  row([L.totalIncl, '', '', '', formatMoney(doc.totalInclVatCents, lang)], true);

  // Payment.
  y += 14;
  if (y > 700) {
    pdf.addPage();
    y = MARGIN;
  }
  pdf.font('Helvetica-Bold').fontSize(10).text(L.payment, MARGIN, y, { width: WIDTH });
  pdf.font('Helvetica').fontSize(9.5);
  if (doc.kind === 'invoice') {
    pdf.text(`${L.toPay} : ${formatMoney(doc.totalInclVatCents, lang)} — ${L.dueDate} : ${formatDate(doc.dueDate)}`, { width: WIDTH });
    pdf.text(`IBAN ${formatIban(seller.iban)} — BIC ${seller.bic} — ${seller.name}`, { width: WIDTH });
    pdf.text(`${L.structuredCommunication} : ${doc.structuredReference}`, { width: WIDTH });
    pdf.moveDown(0.5).fontSize(8).text(L.paymentTerms(PAYMENT_TERM_DAYS), { width: WIDTH });
  } else {
    pdf.text(L.creditNoteSettles, { width: WIDTH });
    pdf.text(`${L.structuredCommunication} : ${doc.structuredReference}`, { width: WIDTH });
  }
  if (doc.vatBreakdown.some((b) => b.category !== 'S')) pdf.moveDown(0.3).fontSize(8).text(`0 % : ${L.outOfScope}.`, { width: WIDTH });
  const clauses = [...new Set(doc.lines.map((l) => l.clause).filter((c): c is string => c !== null))];
  if (clauses.length > 0) pdf.moveDown(0.3).fontSize(7).fillColor('#555555').text(`Easy2Phone — §${clauses.join(', §')}`, { width: WIDTH });
  pdf.end();
  return done;
}
