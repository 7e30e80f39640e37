/**
 * Peppol BIS Billing 3.0 UBL of invoices and credit notes: well-formed (xmllint), the
 * Peppol / EN 16931 rules that matter (ubl-check.ts), and — when E2P_UBL_XSD_DIR points
 * to the OASIS UBL 2.1 `xsd/` (or `xsdrt/`) directory — valid against the UBL 2.1 XSD.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_LINES, sampleDocument } from '../../../../test/support/billing-documents.ts';
import { checkPeppolUbl, parseXml } from './ubl-check.ts';
import { escapeXml, linePricing, toUbl } from './ubl.ts';

const dir = mkdtempSync(join(tmpdir(), 'e2p-ubl-'));
let n = 0;
function xmllint(xml: string, schema?: string): void {
  const file = join(dir, `doc-${n++}.xml`);
  writeFileSync(file, xml);
  execFileSync('xmllint', ['--noout', ...(schema ? ['--schema', schema] : []), file], { stdio: 'pipe' });
}

const documents = {
  'run invoice (S with E for interest and fees)': sampleDocument({ lines: RUN_LINES }),
  'invoice of interest and fees only (O)': sampleDocument({ lines: RUN_LINES.filter((l) => l.vatRate === 0) }),
  'one-off invoice, Dutch': sampleDocument({ language: 'nl', lines: [{ type: 'one_off', productCode: 'T54W', productName: 'Yealink T54W', quantity: 3, amountCents: 53700, vatRate: 21 }] }),
  'termination fee, English, name with markup': sampleDocument({ language: 'en', buyerName: 'Smith & <Sons> "Ltd"', lines: [{ type: 'termination_fee', quantity: 1, amountCents: 123456, vatRate: 21, description: 'Early termination fee (§11.2) — 23 months' }] }),
  'credit note (partial)': sampleDocument({ kind: 'credit_note', lines: RUN_LINES.slice(0, 2) }),
  'credit note of a reminder fee (O)': sampleDocument({ kind: 'credit_note', lines: [RUN_LINES[6]!] }),
  'credit note of a whole run invoice (S, E, a negative line)': sampleDocument({ kind: 'credit_note', lines: RUN_LINES }),
  'zero total: a §10.4 reduction cancelling the month': sampleDocument({ lines: [RUN_LINES[1]!, { type: 'defect_credit', quantity: 1, amountCents: -3750, vatRate: 21, description: 'Réduction (§10.4)' }] }),
  'optional parts left out: no period, contact, BIC, register, buyer address, product code': sampleDocument({
    period: false,
    seller: { email: null, bic: '', register: null },
    buyer: { email: null, address: null },
    lines: [{ type: 'one_off', quantity: 1, amountCents: 1000, vatRate: 21 }, RUN_LINES[5]!],
  }),
};

describe('Peppol UBL', () => {
  for (const [name, doc] of Object.entries(documents)) {
    it(`${name}: well-formed and passes the Peppol / EN 16931 checks`, () => {
      const xml = toUbl(doc);
      xmllint(xml);
      expect(checkPeppolUbl(xml)).toEqual({ ok: true, errors: [] });
      const root = parseXml(xml);
      expect(root.name).toBe(doc.kind === 'invoice' ? 'Invoice' : 'CreditNote');
      expect(xml).toContain('<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>');
      expect(xml).toContain('<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>');
      expect(xml).toContain('<cbc:EndpointID schemeID="0208">0812345603</cbc:EndpointID>');
      expect(xml).toContain('<cbc:EndpointID schemeID="0208">0455218921</cbc:EndpointID>');
      expect(xml).toContain(`<cbc:PaymentID>${doc.structuredReference}</cbc:PaymentID>`);
      expect(xml).toContain('<cbc:ID>BE36068200000081</cbc:ID>');
      expect(xml).toContain(`<cbc:PayableAmount currencyID="EUR">${(doc.totalInclVatCents / 100).toFixed(2)}</cbc:PayableAmount>`);
    });
  }

  it('the run invoice: S 21 % on the S lines, E with the exemption text for interest and fees (BR-O-11), exact amounts', () => {
    const doc = documents['run invoice (S with E for interest and fees)'];
    const xml = toUbl(doc);
    // S: 2057 + 3750 + 100 + 83 − 500 = 5490 → VAT half-up(1152.9) = 1153; E: 37 + 1500.
    expect(doc.vatCents).toBe(1153);
    expect(xml).toMatch(/<cbc:TaxableAmount currencyID="EUR">54\.90<\/cbc:TaxableAmount>\s*<cbc:TaxAmount currencyID="EUR">11\.53<\/cbc:TaxAmount>\s*<cac:TaxCategory>\s*<cbc:ID>S<\/cbc:ID>\s*<cbc:Percent>21<\/cbc:Percent>/);
    expect(xml).toMatch(/<cbc:TaxableAmount currencyID="EUR">15\.37<\/cbc:TaxableAmount>\s*<cbc:TaxAmount currencyID="EUR">0\.00<\/cbc:TaxAmount>\s*<cac:TaxCategory>\s*<cbc:ID>E<\/cbc:ID>\s*<cbc:Percent>0<\/cbc:Percent>\s*<cbc:TaxExemptionReason>Hors champ/);
    expect(xml).toContain('<cbc:LineExtensionAmount currencyID="EUR">-5.00</cbc:LineExtensionAmount>');
    expect(xml).toContain('<cbc:InvoicedQuantity unitCode="C62">-1</cbc:InvoicedQuantity>');
    // Prorata 20.57 for 3 users: the price is given for the 3 (BaseQuantity), exact.
    expect(xml).toMatch(/<cbc:PriceAmount currencyID="EUR">20\.57<\/cbc:PriceAmount>\s*<cbc:BaseQuantity unitCode="C62">3<\/cbc:BaseQuantity>/);
    expect(xml).toContain('&amp; &lt;autres&gt;');
    expect(xml).toContain('<cbc:SellersItemIdentification>'.replace('<cbc:', '<cac:'));
  });

  it('an invoice of interest and fees only is category O with VATEX-EU-O and no VAT identifiers (BR-O-02)', () => {
    const xml = toUbl(documents['invoice of interest and fees only (O)']);
    expect(xml).toContain('<cbc:TaxExemptionReasonCode>VATEX-EU-O</cbc:TaxExemptionReasonCode>');
    expect(xml).not.toContain('<cac:PartyTaxScheme>');
    expect(xml).not.toMatch(/<cbc:ID>O<\/cbc:ID>\s*<cbc:Percent>/);
  });

  it('a credit note references the invoice it corrects and uses CreditNoteLine / CreditedQuantity', () => {
    const xml = toUbl(documents['credit note (partial)']);
    expect(xml).toMatch(/<cac:BillingReference>\s*<cac:InvoiceDocumentReference>\s*<cbc:ID>2027-000002<\/cbc:ID>/);
    expect(xml).toContain('<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>');
    expect(xml).toContain('<cbc:CreditedQuantity unitCode="C62">3</cbc:CreditedQuantity>');
    expect(xml).not.toContain('<cbc:DueDate>');
  });

  it('the checker catches broken sums, breakdowns and missing elements', () => {
    const xml = toUbl(documents['run invoice (S with E for interest and fees)']);
    const broken = (from: string | RegExp, to: string): string[] => checkPeppolUbl(xml.replace(from, to)).errors;
    expect(broken('<cbc:TaxInclusiveAmount currencyID="EUR">', '<cbc:TaxInclusiveAmount currencyID="EUR">1')).toEqual(
      expect.arrayContaining([expect.stringContaining('BR-CO-15')]),
    );
    expect(broken('<cbc:LineExtensionAmount currencyID="EUR">37.50</cbc:LineExtensionAmount>', '<cbc:LineExtensionAmount currencyID="EUR">37.51</cbc:LineExtensionAmount>')).toEqual(
      expect.arrayContaining([expect.stringContaining('BR-CO-10'), expect.stringContaining('BR-S-08'), expect.stringContaining('R120')]),
    );
    expect(broken('<cbc:TaxAmount currencyID="EUR">11.53</cbc:TaxAmount>\n      <cac:TaxCategory>', '<cbc:TaxAmount currencyID="EUR">11.52</cbc:TaxAmount>\n      <cac:TaxCategory>')).toEqual(
      expect.arrayContaining([expect.stringContaining('BR-CO-14'), expect.stringContaining('BR-S-09')]),
    );
    expect(broken(/<cbc:BuyerReference>.*<\/cbc:BuyerReference>/, '')).toEqual([expect.stringContaining('R003')]);
    expect(broken(/<cbc:PaymentID>.*<\/cbc:PaymentID>/, '')).toEqual([expect.stringContaining('BT-83')]);
    expect(broken('schemeID="0208">0455218921', 'schemeID="9925">0455218921')).toEqual([expect.stringContaining('0208')]);
    expect(broken('<cbc:ID>E</cbc:ID>', '<cbc:ID>O</cbc:ID>')).toEqual(expect.arrayContaining([expect.stringContaining('BR-O-11')]));
    expect(checkPeppolUbl('<Invoice><a></Invoice>').ok).toBe(false);
  });

  it('line pricing is exact: quantity × price / base = amount, never a negative price', () => {
    expect(linePricing({ quantity: 3, amountCents: 3750 })).toEqual({ quantity: 3, priceCents: 1250, baseQuantity: 1 });
    expect(linePricing({ quantity: 3, amountCents: 2057 })).toEqual({ quantity: 3, priceCents: 2057, baseQuantity: 3 });
    expect(linePricing({ quantity: 1, amountCents: -500 })).toEqual({ quantity: -1, priceCents: 500, baseQuantity: 1 });
    expect(escapeXml('a&b<c>"d\'\u0001')).toBe('a&amp;b&lt;c&gt;&quot;d&apos;');
  });

  const xsdDir = process.env.E2P_UBL_XSD_DIR;
  const schemaOf = (root: 'Invoice' | 'CreditNote'): string => join(xsdDir ?? '', 'maindoc', `UBL-${root}-2.1.xsd`);
  if (!xsdDir) {
    it.skip('XSD validation against the OASIS UBL 2.1 schemas — skipped: set E2P_UBL_XSD_DIR to the unpacked xsd/ (or xsdrt/) directory of the OASIS UBL 2.1 package (docs/operator-guide.md "Peppol UBL")', () => {});
  } else {
    it('every document is valid against the OASIS UBL 2.1 XSD (E2P_UBL_XSD_DIR)', () => {
      expect(existsSync(schemaOf('Invoice')), `${schemaOf('Invoice')} not found: E2P_UBL_XSD_DIR must be the xsd/ or xsdrt/ directory`).toBe(true);
      for (const doc of Object.values(documents)) xmllint(toUbl(doc), schemaOf(doc.kind === 'invoice' ? 'Invoice' : 'CreditNote'));
    });
  }
});
