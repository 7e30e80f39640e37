/** Sample billing documents for the PDF and UBL tests: every kind of line, every VAT category. */
import { categoryOf, lineText, vatBreakdownOf, type BillingDocument, type DocumentLine } from '../../src/modules/billing/documents/document.ts';
import { LABELS } from '../../src/modules/billing/documents/labels.ts';
import { DEFAULT_SELLER, type BuyerIdentity, type DocumentLanguage, type SellerIdentity } from '../../src/modules/billing/documents/parties.ts';
import { invoiceTotals } from '../../src/modules/billing/invoice-totals.ts';
import type { InvoiceLineType } from '../../src/modules/billing/schema.ts';

type Raw = { type: InvoiceLineType; productCode?: string; productName?: string; zone?: string; quantity: number; periodStart?: string; periodEnd?: string; amountCents: number; vatRate: number; description?: string };

/**
 * A document as loadDocument builds it. Optional parts: `seller` / `buyer` override the
 * parties (null email, BIC or address: the elements they feed are left out), `period:
 * false` drops the invoice's own period (then only the lines' periods give one).
 */
export function sampleDocument(opts: {
  kind?: 'invoice' | 'credit_note';
  language?: DocumentLanguage;
  lines: Raw[];
  buyerName?: string;
  seller?: Partial<SellerIdentity>;
  buyer?: Partial<BuyerIdentity>;
  period?: false;
}): BillingDocument {
  const language = opts.language ?? 'fr';
  const hasS = opts.lines.some((l) => l.vatRate === 21);
  const lines: DocumentLine[] = opts.lines.map((r, i) => ({
    id: i + 1,
    type: r.type,
    productCode: r.productCode ?? null,
    productName: r.productName ?? null,
    zone: r.zone ?? null,
    quantity: r.quantity,
    periodStart: r.periodStart ?? null,
    periodEnd: r.periodEnd ?? null,
    amountCents: r.amountCents,
    vatRate: r.vatRate,
    category: categoryOf(r.vatRate, hasS),
    clause: r.type === 'traffic' ? '8.3' : '8.1',
    text: lineText(LABELS[language], { type: r.type, productCode: r.productCode ?? null, productName: r.productName ?? null, zone: r.zone ?? null, quantity: r.quantity, periodStart: r.periodStart ?? null, description: r.description ?? null }),
  }));
  const totals = invoiceTotals(lines);
  const credit = opts.kind === 'credit_note';
  // As loadDocument: the invoice period widened to every line period (PEPPOL-EN16931-R110/R111).
  const base = opts.period === false ? [] : ['2027-01-15', '2027-02-28'];
  const starts = [...base.slice(0, 1), ...lines.map((l) => l.periodStart)].filter((d): d is string => d !== null).sort();
  const ends = [...base.slice(1), ...lines.map((l) => l.periodEnd)].filter((d): d is string => d !== null).sort();
  return {
    id: '00000000-0000-4000-8000-000000000001',
    kind: opts.kind ?? 'invoice',
    number: credit ? 'NC2027-000001' : '2027-000002',
    issueDate: '2027-01-28',
    dueDate: '2027-02-27',
    periodStart: starts[0] ?? null,
    periodEnd: ends.at(-1) ?? null,
    structuredReference: '+++202/7000/00223+++',
    language,
    parties: {
      seller: { ...DEFAULT_SELLER, ...opts.seller },
      buyer: {
        clientId: '00000000-0000-4000-8000-0000000000aa',
        name: opts.buyerName ?? 'ACME SRL',
        enterpriseNumber: '0455218921',
        address: { street: 'Boulevard d’Avroy 12', postalCode: '4000', city: 'Liège', country: 'BE' },
        language,
        email: 'compta@acme.test',
        ...opts.buyer,
      },
    },
    lines,
    vatBreakdown: vatBreakdownOf(lines, totals.vatCents),
    ...totals,
    credited: credit ? { number: '2027-000002', issueDate: '2027-01-28' } : null,
    reason: credit ? 'Erreur de quantité' : null,
  };
}

/** A run invoice: prorata (amount not divisible by the quantity), whole months, regularisation, traffic, interest (0 %), a §10.4 reduction. */
export const RUN_LINES: Raw[] = [
  { type: 'prorata', productCode: 'USER', productName: 'Utilisateur', quantity: 3, periodStart: '2027-01-15', periodEnd: '2027-01-31', amountCents: 2057, vatRate: 21 },
  { type: 'recurring', productCode: 'USER', productName: 'Utilisateur', quantity: 3, periodStart: '2027-02-01', periodEnd: '2027-02-28', amountCents: 3750, vatRate: 21 },
  { type: 'regularisation', productCode: 'NUM-BE', quantity: 1, periodStart: '2027-01-15', periodEnd: '2027-01-31', amountCents: 100, vatRate: 21 },
  { type: 'traffic', zone: 'BE-MOBILE', quantity: 7, amountCents: 83, vatRate: 21 },
  { type: 'defect_credit', quantity: 1, amountCents: -500, vatRate: 21, description: 'Réduction pour défaut — ticket T-1 (§10.4)' },
  { type: 'interest', quantity: 1, amountCents: 37, vatRate: 0, description: 'Intérêts de retard — facture 2027-000001 (12 jours) & <autres>' },
  { type: 'reminder_fee', quantity: 1, amountCents: 1500, vatRate: 0, description: 'Frais de rappel — facture 2027-000001' },
];
