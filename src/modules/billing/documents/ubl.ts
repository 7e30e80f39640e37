/**
 * Peppol BIS Billing 3.0 (UBL 2.1) e-invoice of an issued invoice or credit note (§8
 * "Each invoice exists … as a Peppol BIS Billing 3.0 (UBL 2.1) e-invoice"). Built as a
 * string with XML escaping; elements in the order of the UBL 2.1 XSD sequences, within
 * the Peppol cardinalities — ubl-check.ts checks both against its STRUCTURE table, to
 * which any element added here must be added too. Amounts are formatted from integer
 * cents (formatEuros), never through a float.
 */
import { formatEuros } from '../../../kernel/money.ts';
import { PAYMENT_TERM_DAYS } from '../invoice-totals.ts';
import type { BillingDocument, DocumentLine, VatCategory } from './document.ts';
import { LABELS } from './labels.ts';
import { vatIdOf, type BuyerIdentity, type SellerIdentity } from './parties.ts';

export const PEPPOL_CUSTOMIZATION_ID = 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0';
export const PEPPOL_PROFILE_ID = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0';
/** ISO 6523 ICD of the Belgian enterprise number (Crossroads Bank for Enterprises). */
export const BE_ENTERPRISE_SCHEME = '0208';
/** UNCL 4461: 58 = SEPA credit transfer (30 = credit transfer). */
export const PAYMENT_MEANS_CODE = '58';
/** VATEX code and text for category O (interest and reminder fees: compensation, outside the scope of VAT). */
export const VATEX_O = { code: 'VATEX-EU-O', reason: 'Not subject to VAT' };

const NS = {
  invoice: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2',
  credit_note: 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2',
  cac: 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
  cbc: 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
};

/** XML 1.0 escaping of text and attribute values; characters XML 1.0 cannot carry are dropped. */
export function escapeXml(s: string): string {
  return s
     
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A tiny writer: one element per line, indented. */
class Xml {
  private readonly out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  private depth = 0;
  open(name: string, attrs: Record<string, string> = {}): this {
    this.out.push(`${'  '.repeat(this.depth)}<${name}${attrString(attrs)}>`);
    this.depth++;
    return this;
  }
  close(name: string): this {
    this.depth--;
    this.out.push(`${'  '.repeat(this.depth)}</${name}>`);
    return this;
  }
  leaf(name: string, value: string | number | null | undefined, attrs: Record<string, string> = {}): this {
    if (value === null || value === undefined || value === '') return this;
    this.out.push(`${'  '.repeat(this.depth)}<${name}${attrString(attrs)}>${escapeXml(String(value))}</${name}>`);
    return this;
  }
  toString(): string {
    return `${this.out.join('\n')}\n`;
  }
}

function attrString(attrs: Record<string, string>): string {
  return Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}

const EUR = { currencyID: 'EUR' };
const amount = (cents: number): string => formatEuros(cents);

function party(x: Xml, p: { name: string; enterpriseNumber: string | null; address: SellerIdentity['address'] | null; email: string | null }, withVatId: boolean, register: string | null = null): void {
  x.open('cac:Party');
  // BT-34 / BT-49: the Peppol endpoint, the Belgian enterprise number (ICD 0208).
  if (p.enterpriseNumber) x.leaf('cbc:EndpointID', p.enterpriseNumber, { schemeID: BE_ENTERPRISE_SCHEME });
  x.open('cac:PartyName').leaf('cbc:Name', p.name).close('cac:PartyName');
  x.open('cac:PostalAddress');
  if (p.address) {
    x.leaf('cbc:StreetName', p.address.street).leaf('cbc:CityName', p.address.city).leaf('cbc:PostalZone', p.address.postalCode);
  }
  x.open('cac:Country')
    .leaf('cbc:IdentificationCode', p.address?.country || 'BE')
    .close('cac:Country');
  x.close('cac:PostalAddress');
  if (withVatId && p.enterpriseNumber) {
    x.open('cac:PartyTaxScheme').leaf('cbc:CompanyID', vatIdOf(p.enterpriseNumber)).open('cac:TaxScheme').leaf('cbc:ID', 'VAT').close('cac:TaxScheme').close('cac:PartyTaxScheme');
  }
  x.open('cac:PartyLegalEntity').leaf('cbc:RegistrationName', p.name);
  if (p.enterpriseNumber) x.leaf('cbc:CompanyID', p.enterpriseNumber, { schemeID: BE_ENTERPRISE_SCHEME });
  x.leaf('cbc:CompanyLegalForm', register);
  x.close('cac:PartyLegalEntity');
  if (p.email) x.open('cac:Contact').leaf('cbc:ElectronicMail', p.email).close('cac:Contact');
  x.close('cac:Party');
}

function taxCategory(x: Xml, element: 'cac:TaxCategory' | 'cac:ClassifiedTaxCategory', category: VatCategory, rate: number, withExemption: boolean, exemptionText: string): void {
  x.open(element).leaf('cbc:ID', category);
  // BR-O-05: no rate for category O.
  if (category !== 'O') x.leaf('cbc:Percent', rate);
  if (withExemption && category === 'O') x.leaf('cbc:TaxExemptionReasonCode', VATEX_O.code).leaf('cbc:TaxExemptionReason', VATEX_O.reason);
  if (withExemption && category === 'E') x.leaf('cbc:TaxExemptionReason', exemptionText);
  x.open('cac:TaxScheme').leaf('cbc:ID', 'VAT').close('cac:TaxScheme').close(element);
}

/**
 * Quantity and price of a line so that quantity × price / base quantity = the line amount
 * exactly (PEPPOL-EN16931-R120) and the price is never negative (BR-27): when the amount
 * does not divide by the quantity (prorata), the price is given for the whole quantity
 * (BaseQuantity = quantity); a negative amount (a §10.4 reduction) gets a negative quantity.
 */
export function linePricing(l: Pick<DocumentLine, 'quantity' | 'amountCents'>): { quantity: number; priceCents: number; baseQuantity: number } {
  const q = Math.max(1, Math.abs(l.quantity));
  const sign = l.amountCents < 0 ? -1 : 1;
  const abs = Math.abs(l.amountCents);
  if (abs % q === 0) return { quantity: sign * q, priceCents: abs / q, baseQuantity: 1 };
  return { quantity: sign * q, priceCents: abs, baseQuantity: q };
}

/** The UBL 2.1 XML (Peppol BIS Billing 3.0) of the document. */
export function toUbl(doc: BillingDocument): string {
  const isCredit = doc.kind === 'credit_note';
  const root = isCredit ? 'CreditNote' : 'Invoice';
  const lineEl = isCredit ? 'cac:CreditNoteLine' : 'cac:InvoiceLine';
  const qtyEl = isCredit ? 'cbc:CreditedQuantity' : 'cbc:InvoicedQuantity';
  const labels = LABELS[doc.language];
  const { seller, buyer } = doc.parties;
  // BR-O-02: a document with a category O line carries no seller or buyer VAT identifier
  // (O is alone on its document, BR-O-11/12: see categoryOf and docs/operator-guide.md).
  const hasO = doc.vatBreakdown.some((b) => b.category === 'O');
  const x = new Xml();
  x.open(root, { xmlns: NS[doc.kind], 'xmlns:cac': NS.cac, 'xmlns:cbc': NS.cbc });
  x.leaf('cbc:CustomizationID', PEPPOL_CUSTOMIZATION_ID).leaf('cbc:ProfileID', PEPPOL_PROFILE_ID);
  x.leaf('cbc:ID', doc.number).leaf('cbc:IssueDate', doc.issueDate);
  if (!isCredit) x.leaf('cbc:DueDate', doc.dueDate);
  // UNCL 1001: 380 commercial invoice, 381 credit note.
  x.leaf(isCredit ? 'cbc:CreditNoteTypeCode' : 'cbc:InvoiceTypeCode', isCredit ? '381' : '380');
  if (doc.reason) x.leaf('cbc:Note', doc.reason);
  x.leaf('cbc:DocumentCurrencyCode', 'EUR');
  // BT-10 (PEPPOL-EN16931-R003): the buyer reference, the client's id on our platform.
  x.leaf('cbc:BuyerReference', buyer.clientId);
  if (doc.periodStart || doc.periodEnd) {
    x.open('cac:InvoicePeriod').leaf('cbc:StartDate', doc.periodStart).leaf('cbc:EndDate', doc.periodEnd).close('cac:InvoicePeriod');
  }
  if (doc.credited) {
    x.open('cac:BillingReference')
      .open('cac:InvoiceDocumentReference')
      .leaf('cbc:ID', doc.credited.number)
      .leaf('cbc:IssueDate', doc.credited.issueDate)
      .close('cac:InvoiceDocumentReference')
      .close('cac:BillingReference');
  }
  x.open('cac:AccountingSupplierParty');
  party(x, seller, !hasO, seller.register);
  x.close('cac:AccountingSupplierParty');
  x.open('cac:AccountingCustomerParty');
  party(x, { name: buyer.name, enterpriseNumber: buyer.enterpriseNumber, address: buyer.address, email: buyer.email }, !hasO);
  x.close('cac:AccountingCustomerParty');
  // BG-16: credit transfer to the operator's account with the structured communication (BT-83).
  x.open('cac:PaymentMeans').leaf('cbc:PaymentMeansCode', PAYMENT_MEANS_CODE);
  x.leaf('cbc:PaymentID', doc.structuredReference);
  x.open('cac:PayeeFinancialAccount').leaf('cbc:ID', seller.iban).leaf('cbc:Name', seller.name);
  if (seller.bic) x.open('cac:FinancialInstitutionBranch').leaf('cbc:ID', seller.bic).close('cac:FinancialInstitutionBranch');
  x.close('cac:PayeeFinancialAccount').close('cac:PaymentMeans');
  x.open('cac:PaymentTerms').leaf('cbc:Note', isCredit ? labels.creditNoteSettles : labels.paymentTerms(PAYMENT_TERM_DAYS)).close('cac:PaymentTerms');

  x.open('cac:TaxTotal').leaf('cbc:TaxAmount', amount(doc.vatCents), EUR);
  for (const b of doc.vatBreakdown) {
    x.open('cac:TaxSubtotal').leaf('cbc:TaxableAmount', amount(b.taxableCents), EUR).leaf('cbc:TaxAmount', amount(b.taxCents), EUR);
    taxCategory(x, 'cac:TaxCategory', b.category, b.rate, true, labels.outOfScope);
    x.close('cac:TaxSubtotal');
  }
  x.close('cac:TaxTotal');

  const lineSum = doc.lines.reduce((s, l) => s + BigInt(l.amountCents), 0n);
  x.open('cac:LegalMonetaryTotal')
    .leaf('cbc:LineExtensionAmount', formatEuros(lineSum), EUR)
    .leaf('cbc:TaxExclusiveAmount', amount(doc.totalExclVatCents), EUR)
    .leaf('cbc:TaxInclusiveAmount', amount(doc.totalInclVatCents), EUR)
    .leaf('cbc:PayableAmount', amount(doc.totalInclVatCents), EUR)
    .close('cac:LegalMonetaryTotal');

  for (const l of doc.lines) {
    const p = linePricing(l);
    x.open(lineEl).leaf('cbc:ID', l.id);
    if (l.clause) x.leaf('cbc:Note', `§${l.clause}`);
    x.leaf(qtyEl, p.quantity, { unitCode: 'C62' }).leaf('cbc:LineExtensionAmount', amount(l.amountCents), EUR);
    if (l.periodStart || l.periodEnd) x.open('cac:InvoicePeriod').leaf('cbc:StartDate', l.periodStart).leaf('cbc:EndDate', l.periodEnd).close('cac:InvoicePeriod');
    x.open('cac:Item').leaf('cbc:Name', l.text.slice(0, 200));
    if (l.productCode) x.open('cac:SellersItemIdentification').leaf('cbc:ID', l.productCode).close('cac:SellersItemIdentification');
    taxCategory(x, 'cac:ClassifiedTaxCategory', l.category, l.vatRate, false, '');
    x.close('cac:Item');
    x.open('cac:Price').leaf('cbc:PriceAmount', amount(p.priceCents), EUR);
    if (p.baseQuantity !== 1) x.leaf('cbc:BaseQuantity', p.baseQuantity, { unitCode: 'C62' });
    x.close('cac:Price');
    x.close(lineEl);
  }
  x.close(root);
  return x.toString();
}

export type { BuyerIdentity };
