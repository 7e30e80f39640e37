/**
 * One issued invoice or credit note as its documents (PDF, Peppol UBL) show it: the
 * stored rows, the parties snapshotted at issue, the product names, the VAT breakdown
 * per category (§5.1, RULES.md "VAT": 21 % category S; interest and reminder fees
 * outside the scope of VAT). Built from stored data only: an issued invoice's documents
 * are the same every time they are produced.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.ts';
import { sumCents } from '../../../kernel/money.ts';
import { products } from '../../catalog/schema.ts';
import { VAT_RATE } from '../invoice-totals.ts';
import { invoiceLines, invoices, type InvoiceLineType } from '../schema.ts';
import { LABELS, type Labels } from './labels.ts';
import { currentParties, type DocumentLanguage, type DocumentParties } from './parties.ts';

/**
 * EN 16931 VAT categories: S standard rate; O "not subject to VAT" (interest, reminder
 * fees: compensation, RULES.md); E "exempt" is used for those same 0 % lines when the
 * document also has S lines, because EN 16931 BR-O-11 forbids an O breakdown beside any
 * other category (see docs/operator-guide.md "Peppol UBL").
 */
export type VatCategory = 'S' | 'O' | 'E';

export interface DocumentLine {
  /** 1-based line id. */
  id: number;
  type: InvoiceLineType;
  productCode: string | null;
  productName: string | null;
  zone: string | null;
  quantity: number;
  periodStart: string | null;
  periodEnd: string | null;
  amountCents: number;
  vatRate: number;
  category: VatCategory;
  clause: string | null;
  /** The line's text in the document's language. */
  text: string;
}

export interface VatBreakdown {
  category: VatCategory;
  rate: number;
  taxableCents: number;
  taxCents: number;
}

export interface BillingDocument {
  id: string;
  kind: 'invoice' | 'credit_note';
  number: string;
  issueDate: string;
  dueDate: string;
  /** The period the document covers (the invoice period, widened to every line period). */
  periodStart: string | null;
  periodEnd: string | null;
  structuredReference: string;
  language: DocumentLanguage;
  parties: DocumentParties;
  lines: DocumentLine[];
  vatBreakdown: VatBreakdown[];
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
  credited: { number: string; issueDate: string } | null;
  reason: string | null;
}

/** The category of each 0 % line: O alone, E beside S lines (BR-O-11). */
export function categoryOf(vatRate: number, documentHasStandardRate: boolean): VatCategory {
  if (vatRate === VAT_RATE) return 'S';
  if (vatRate !== 0) throw new RangeError(`§5.1: unsupported VAT rate ${vatRate}`);
  return documentHasStandardRate ? 'E' : 'O';
}

/** VAT per category (§5.1): S = half-up 21 % of the sum of the S lines — the invoice's stored VAT. */
export function vatBreakdownOf(lines: readonly Pick<DocumentLine, 'category' | 'vatRate' | 'amountCents'>[], vatCents: number): VatBreakdown[] {
  const out: VatBreakdown[] = [];
  for (const category of ['S', 'E', 'O'] as const) {
    const of = lines.filter((l) => l.category === category);
    if (of.length === 0) continue;
    out.push({ category, rate: category === 'S' ? VAT_RATE : 0, taxableCents: sumCents(of.map((l) => l.amountCents)), taxCents: category === 'S' ? vatCents : 0 });
  }
  return out;
}

function monthLabel(labels: Labels, date: string): string {
  return `${labels.months[Number(date.slice(5, 7)) - 1]} ${date.slice(0, 4)}`;
}

export function lineText(labels: Labels, l: { type: InvoiceLineType; productCode: string | null; productName: string | null; zone: string | null; quantity: number; periodStart: string | null; description: string | null }): string {
  const t = labels.lineText;
  const product = l.productName ?? l.productCode;
  switch (l.type) {
    case 'recurring':
    case 'prorata':
    case 'regularisation':
      return `${t[l.type]} — ${product ?? ''}${l.periodStart ? ` — ${monthLabel(labels, l.periodStart)}` : ''}`;
    case 'traffic':
      return `${t.traffic(l.quantity)} — ${l.zone ?? ''}`;
    case 'one_off':
      return product ? product : t.one_off;
    default:
      return l.description ?? `${t[l.type]}${product ? ` — ${product}` : ''}`;
  }
}

export async function loadDocument(db: DbOrTx, invoiceId: string): Promise<BillingDocument | null> {
  const [inv] = await db.select().from(invoices).where(eq(invoices.id, invoiceId)).limit(1);
  if (!inv) return null;
  const rows = await db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, inv.id)).orderBy(asc(invoiceLines.position));
  const codes = [...new Set(rows.map((r) => r.productCode).filter((c): c is string => c !== null))];
  const names = new Map(
    codes.length === 0 ? [] : (await db.select({ code: products.code, name: products.name }).from(products).where(inArray(products.code, codes))).map((p) => [p.code, p.name]),
  );
  const parties = inv.parties ?? (await currentParties(db, inv.clientId));
  const language = parties.buyer.language;
  const labels = LABELS[language];
  const hasS = rows.some((r) => r.vatRate === VAT_RATE);
  const lines: DocumentLine[] = rows.map((r, i) => {
    const productName = r.productCode ? (names.get(r.productCode) ?? null) : null;
    return {
      id: i + 1,
      type: r.type,
      productCode: r.productCode,
      productName,
      zone: r.zone,
      quantity: r.quantity,
      periodStart: r.periodStart,
      periodEnd: r.periodEnd,
      amountCents: r.amountCents,
      vatRate: r.vatRate,
      category: categoryOf(r.vatRate, hasS),
      clause: r.clause,
      text: lineText(labels, { ...r, productName }),
    };
  });
  let credited: BillingDocument['credited'] = null;
  if (inv.creditedInvoiceId) {
    const [c] = await db.select({ number: invoices.number, issueDate: invoices.issueDate }).from(invoices).where(eq(invoices.id, inv.creditedInvoiceId)).limit(1);
    credited = c ?? null;
  }
  const starts = [inv.periodStart, ...lines.map((l) => l.periodStart)].filter((d): d is string => d !== null).sort();
  const ends = [inv.periodEnd, ...lines.map((l) => l.periodEnd)].filter((d): d is string => d !== null).sort();
  return {
    id: inv.id,
    kind: inv.kind,
    number: inv.number,
    issueDate: inv.issueDate,
    dueDate: inv.dueDate,
    periodStart: starts[0] ?? null,
    periodEnd: ends.at(-1) ?? null,
    structuredReference: inv.structuredReference,
    language,
    parties,
    lines,
    vatBreakdown: vatBreakdownOf(lines, inv.vatCents),
    totalExclVatCents: inv.totalExclVatCents,
    vatCents: inv.vatCents,
    totalInclVatCents: inv.totalInclVatCents,
    credited,
    reason: inv.reason,
  };
}
