/**
 * The Peppol UBL checker itself (ubl-check.ts): the element order and cardinality of our
 * UBL 2.1 subset (what the OASIS XSD would reject), and the Peppol BIS 3.0 / EN 16931
 * rules beyond the sums — each fault made on one of our generated documents must be
 * reported, by its rule, and nothing else.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_LINES, sampleDocument } from '../../../../test/support/billing-documents.ts';
import { isLocalDate } from '../../../kernel/time.ts';
import { checkPeppolUbl, UBL_NAMESPACES, UBL_SUBSET, type Particle } from './ubl-check.ts';
import { toUbl } from './ubl.ts';

const FIXTURES = join(import.meta.dirname, '../../../../test/fixtures/ubl');
const runInvoice = toUbl(sampleDocument({ lines: RUN_LINES }));
const creditNote = toUbl(sampleDocument({ kind: 'credit_note', lines: RUN_LINES.slice(0, 2) }));
const feesOnly = toUbl(sampleDocument({ lines: RUN_LINES.filter((l) => l.vatRate === 0) }));

/** The checker's errors once `from` is replaced by `to` in `xml` (which must contain `from`). */
function errorsAfter(xml: string, from: string | RegExp, to: string): string[] {
  const changed = xml.replace(from, to);
  expect(changed, `${String(from)} not found`).not.toBe(xml);
  return checkPeppolUbl(changed).errors;
}
/** Exactly these errors, one per fragment, in this order. */
const only = (...fragments: string[]): string[] => fragments.map((f): string => expect.stringContaining(f) as string);
/** At least these errors. */
const among = (...fragments: string[]): string[] => expect.arrayContaining(only(...fragments)) as string[];

describe('UBL 2.1 order and cardinality (our XSD subset)', () => {
  it('our documents pass, with and without their optional parts', () => {
    for (const xml of [runInvoice, creditNote, feesOnly]) expect(checkPeppolUbl(xml)).toEqual({ ok: true, errors: [] });
    const bare = toUbl(
      sampleDocument({ period: false, seller: { email: null, bic: '', register: null }, buyer: { email: null, address: null }, lines: [{ type: 'one_off', quantity: 1, amountCents: 1000, vatRate: 21 }] }),
    );
    expect(checkPeppolUbl(bare)).toEqual({ ok: true, errors: [] });
    for (const absent of ['<cac:InvoicePeriod>', '<cac:Contact>', '<cac:FinancialInstitutionBranch>', '<cbc:CompanyLegalForm>', '<cbc:StreetName>Boulevard', '<cac:SellersItemIdentification>']) {
      expect(bare).not.toContain(absent);
    }
  });

  it('an element out of its XSD sequence position is reported', () => {
    // Invoice: DueDate comes before InvoiceTypeCode.
    expect(errorsAfter(runInvoice, /(\s*<cbc:DueDate>.*<\/cbc:DueDate>)(\s*<cbc:InvoiceTypeCode>.*<\/cbc:InvoiceTypeCode>)/, '$2$1')).toEqual(
      only('UBL 2.1 XSD order: /Invoice/cbc:DueDate is out of place, the Invoice sequence puts it before cbc:InvoiceTypeCode'),
    );
    // Party: PartyTaxScheme before PartyLegalEntity.
    expect(errorsAfter(runInvoice, /(\s*<cac:PartyTaxScheme>[\s\S]*?<\/cac:PartyTaxScheme>)(\s*<cac:PartyLegalEntity>[\s\S]*?<\/cac:PartyLegalEntity>)/, '$2$1')).toEqual(
      only('UBL 2.1 XSD order: /Invoice/cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme is out of place, the Party sequence puts it before cac:PartyLegalEntity'),
    );
    // Line: Item before Price; credit note: the lines after the totals.
    expect(errorsAfter(creditNote, /(\s*<cac:Item>[\s\S]*?<\/cac:Item>)(\s*<cac:Price>[\s\S]*?<\/cac:Price>)/, '$2$1')).toEqual(only('/CreditNote/cac:CreditNoteLine[1]/cac:Item is out of place, the CreditNoteLine sequence puts it before cac:Price'));
    expect(errorsAfter(creditNote, /(\s*<cac:LegalMonetaryTotal>[\s\S]*?<\/cac:LegalMonetaryTotal>)(\s*<cac:CreditNoteLine>[\s\S]*?<\/cac:CreditNoteLine>)/, '$2$1')).toEqual(
      only('/CreditNote/cac:LegalMonetaryTotal is out of place, the CreditNote sequence puts it before cac:CreditNoteLine'),
    );
  });

  it('a prepaid amount is accepted in its place (before PayableAmount) and reported after it', () => {
    const prepaid = '<cbc:PrepaidAmount currencyID="EUR">10.00</cbc:PrepaidAmount>';
    // 81.80 incl. VAT, 10.00 prepaid: 71.80 due (BR-CO-16).
    const payable = /<cbc:PayableAmount currencyID="EUR">81\.80<\/cbc:PayableAmount>/;
    expect(errorsAfter(runInvoice, payable, `${prepaid}<cbc:PayableAmount currencyID="EUR">71.80</cbc:PayableAmount>`)).toEqual([]);
    expect(errorsAfter(runInvoice, payable, `<cbc:PayableAmount currencyID="EUR">71.80</cbc:PayableAmount>${prepaid}`)).toEqual(
      only('UBL 2.1 XSD order: /Invoice/cac:LegalMonetaryTotal/cbc:PrepaidAmount is out of place, the MonetaryTotal sequence puts it before cbc:PayableAmount'),
    );
    expect(errorsAfter(runInvoice, payable, `${prepaid}<cbc:PayableAmount currencyID="EUR">81.80</cbc:PayableAmount>`)).toEqual(only('BR-CO-16'));
  });

  it('cardinality: one document note (PEPPOL-EN16931-R002), mandatory item name, one payment terms', () => {
    expect(errorsAfter(creditNote, '<cbc:Note>Erreur de quantité</cbc:Note>', '<cbc:Note>a</cbc:Note><cbc:Note>b</cbc:Note>')).toEqual(
      only('cardinality (UBL 2.1 / Peppol BIS 3.0): /CreditNote/cbc:Note occurs 2 time(s), CreditNote allows 0..1'),
    );
    expect(errorsAfter(runInvoice, /<cbc:Name>Abonnement \(prorata\)[^<]*<\/cbc:Name>/, '')).toEqual(only('/Invoice/cac:InvoiceLine[1]/cac:Item/cbc:Name occurs 0 time(s), Item allows 1..1', 'BR-25: line 1'));
    expect(errorsAfter(runInvoice, /(<cac:PaymentTerms>[\s\S]*?<\/cac:PaymentTerms>)/, '$1$1')).toEqual(only('/Invoice/cac:PaymentTerms occurs 2 time(s), Invoice allows 0..1'));
    expect(errorsAfter(runInvoice, /<cbc:EndpointID schemeID="0208">0455218921<\/cbc:EndpointID>/, '')).toEqual(
      only('/Invoice/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID occurs 0 time(s), Party allows 1..1', 'PEPPOL-EN16931-R010'),
    );
  });

  it('elements of the wrong namespace, outside the subset, or in the wrong document are reported', () => {
    expect(errorsAfter(runInvoice, /<cac:PaymentTerms>([\s\S]*?)<\/cac:PaymentTerms>/, '<cbc:PaymentTerms>$1</cbc:PaymentTerms>')).toEqual(
      only('/Invoice/cbc:PaymentTerms must be in the cac namespace'),
    );
    expect(errorsAfter(runInvoice, '<cbc:DocumentCurrencyCode>', '<cbc:AccountingCost>4711</cbc:AccountingCost><cbc:DocumentCurrencyCode>')).toEqual(
      only('/Invoice/cbc:AccountingCost is not an element of Invoice'),
    );
    // A credit note has no DueDate in UBL 2.1.
    expect(errorsAfter(creditNote, '<cbc:CreditNoteTypeCode>', '<cbc:DueDate>2027-02-27</cbc:DueDate><cbc:CreditNoteTypeCode>')).toEqual(only('/CreditNote/cbc:DueDate is not an element of CreditNote'));
    // A line's tax category carries no exemption reason (the breakdown does).
    expect(errorsAfter(feesOnly, /(<cac:ClassifiedTaxCategory>\s*<cbc:ID>O<\/cbc:ID>)/, '$1<cbc:TaxExemptionReason>x</cbc:TaxExemptionReason>')).toEqual(
      only('/cac:Item/cac:ClassifiedTaxCategory/cbc:TaxExemptionReason is not an element of LineTaxCategory'),
    );
  });

  it('basic elements: not empty (PEPPOL-EN16931-R008), dates YYYY-MM-DD, decimal amounts with a currency', () => {
    expect(errorsAfter(runInvoice, '<cbc:CityName>Liège</cbc:CityName>', '<cbc:CityName> </cbc:CityName>')).toEqual(only('PEPPOL-EN16931-R008: /Invoice/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:CityName is empty'));
    expect(errorsAfter(runInvoice, '<cbc:IssueDate>2027-01-28</cbc:IssueDate>', '<cbc:IssueDate>2027-02-30</cbc:IssueDate>')).toEqual(only('PEPPOL-EN16931-F001: /Invoice/cbc:IssueDate "2027-02-30"'));
    expect(errorsAfter(runInvoice, '<cbc:DueDate>2027-02-27</cbc:DueDate>', '<cbc:DueDate>27/02/2027</cbc:DueDate>')).toEqual(only('/Invoice/cbc:DueDate "27/02/2027" is not a date'));
    expect(errorsAfter(runInvoice, '<cbc:PriceAmount currencyID="EUR">12.50</cbc:PriceAmount>', '<cbc:PriceAmount>12.50</cbc:PriceAmount>')).toEqual(
      only('PriceAmount without its required currencyID', 'BR-CL-03'),
    );
    expect(errorsAfter(runInvoice, '<cbc:Percent>21</cbc:Percent>', '<cbc:Percent>21 %</cbc:Percent>')).toEqual(among('TaxCategory/cbc:Percent "21 %" is not a decimal'));
    expect(errorsAfter(runInvoice, '<cbc:ProfileID>', '<cbc:ProfileID><cbc:ID>x</cbc:ID>')).toEqual(among('/Invoice/cbc:ProfileID is a basic element'));
    expect(['2027-01-31', '2024-02-29'].map(isLocalDate)).toEqual([true, true]);
    expect(['2027-02-29', '2027-13-01', '2027-1-01', '2027-01-01Z'].map(isLocalDate)).toEqual([false, false, false, false]);
  });
});

/**
 * Our subset (UBL_SUBSET) written out as an XSD — one schema per namespace, as XSD wants —
 * so that a real schema validator, xmllint, checks the same order and cardinality as
 * ubl-check.ts's own walk. Generated here, from our table: not the OASIS schema. Basic
 * elements get the XSD type of their UBL representation term (date, decimal amount with
 * its required currencyID, decimal quantity and percent, text otherwise).
 */
function writeSubsetXsd(): Record<'Invoice' | 'CreditNote', string> {
  const dir = mkdtempSync(join(tmpdir(), 'e2p-ubl-xsd-'));
  const XS = 'xmlns:xsd="http://www.w3.org/2001/XMLSchema"';
  const prefixes = `xmlns:cac="${UBL_NAMESPACES.cac}" xmlns:cbc="${UBL_NAMESPACES.cbc}"`;
  const refs = (seq: readonly Particle[]): string =>
    seq.map((p) => `<xsd:element ref="${p.ns}:${p.name}" minOccurs="${p.min}" maxOccurs="${p.max === Infinity ? 'unbounded' : p.max}"/>`).join('');
  const aggregates = new Map<string, string>();
  const basics = new Set<string>();
  for (const seq of UBL_SUBSET.values()) {
    for (const p of seq) {
      if (p.ns === 'cbc') basics.add(p.name);
      else if ((aggregates.get(p.name) ?? p.type) !== p.type) throw new Error(`cac:${p.name} has two types`);
      else aggregates.set(p.name, p.type);
    }
  }
  const simple = (base: string, attribute = ''): string => `<xsd:simpleContent><xsd:extension base="${base}">${attribute}</xsd:extension></xsd:simpleContent>`;
  const basicType = (name: string): string => /(Date|Amount|Quantity|Percent)$/.exec(name)?.[1] ?? 'Text';
  writeFileSync(
    join(dir, 'cbc.xsd'),
    `<xsd:schema ${XS} xmlns:cbc="${UBL_NAMESPACES.cbc}" targetNamespace="${UBL_NAMESPACES.cbc}" elementFormDefault="qualified">
      <xsd:simpleType name="Date"><xsd:restriction base="xsd:date"/></xsd:simpleType>
      <xsd:simpleType name="Percent"><xsd:restriction base="xsd:decimal"/></xsd:simpleType>
      <xsd:complexType name="Amount">${simple('xsd:decimal', '<xsd:attribute name="currencyID" type="xsd:token" use="required"/>')}</xsd:complexType>
      <xsd:complexType name="Quantity">${simple('xsd:decimal', '<xsd:attribute name="unitCode" type="xsd:token"/>')}</xsd:complexType>
      <xsd:complexType name="Text">${simple('xsd:string', '<xsd:anyAttribute processContents="skip"/>')}</xsd:complexType>
      ${[...basics].map((b) => `<xsd:element name="${b}" type="cbc:${basicType(b)}"/>`).join('')}
    </xsd:schema>`,
  );
  const types = [...UBL_SUBSET].filter(([type]) => type !== 'Invoice' && type !== 'CreditNote');
  writeFileSync(
    join(dir, 'cac.xsd'),
    `<xsd:schema ${XS} ${prefixes} targetNamespace="${UBL_NAMESPACES.cac}" elementFormDefault="qualified">
      <xsd:import namespace="${UBL_NAMESPACES.cbc}" schemaLocation="cbc.xsd"/>
      ${types.map(([type, seq]) => `<xsd:complexType name="${type}"><xsd:sequence>${refs(seq)}</xsd:sequence></xsd:complexType>`).join('')}
      ${[...aggregates].map(([name, type]) => `<xsd:element name="${name}" type="cac:${type}"/>`).join('')}
    </xsd:schema>`,
  );
  const main = (root: 'Invoice' | 'CreditNote'): string => {
    const ns = `urn:oasis:names:specification:ubl:schema:xsd:${root}-2`;
    const file = join(dir, `${root}.xsd`);
    writeFileSync(
      file,
      `<xsd:schema ${XS} ${prefixes} targetNamespace="${ns}" elementFormDefault="qualified">
        <xsd:import namespace="${UBL_NAMESPACES.cac}" schemaLocation="cac.xsd"/>
        <xsd:import namespace="${UBL_NAMESPACES.cbc}" schemaLocation="cbc.xsd"/>
        <xsd:element name="${root}"><xsd:complexType><xsd:sequence>${refs(UBL_SUBSET.get(root)!)}</xsd:sequence></xsd:complexType></xsd:element>
      </xsd:schema>`,
    );
    return file;
  };
  return { Invoice: main('Invoice'), CreditNote: main('CreditNote') };
}

describe('our subset as an XSD, validated by xmllint', () => {
  const schemas = writeSubsetXsd();
  const dir = mkdtempSync(join(tmpdir(), 'e2p-ubl-doc-'));
  /** xmllint's verdict: null when valid, else its complaint. */
  const xmllint = (xml: string): string | null => {
    const file = join(dir, 'doc.xml');
    writeFileSync(file, xml);
    try {
      execFileSync('xmllint', ['--noout', '--schema', xml.includes('<CreditNote') ? schemas.CreditNote : schemas.Invoice, file], { stdio: 'pipe' });
      return null;
    } catch (e) {
      return String((e as { stderr: Buffer }).stderr);
    }
  };

  it('accepts our documents and the hand-written fixture', () => {
    const documents = [
      runInvoice,
      creditNote,
      feesOnly,
      toUbl(sampleDocument({ kind: 'credit_note', lines: RUN_LINES })),
      toUbl(sampleDocument({ period: false, seller: { email: null, bic: '', register: null }, buyer: { email: null, address: null }, lines: [{ type: 'one_off', quantity: 1, amountCents: 1000, vatRate: 21 }] })),
      readFileSync(join(FIXTURES, 'invoice-two-rates-prepaid.xml'), 'utf8'),
    ];
    for (const xml of documents) expect(xmllint(xml)).toBeNull();
  });

  it('rejects what ubl-check.ts rejects for order, cardinality, namespace and data type', () => {
    for (const [xml, from, to] of [
      [runInvoice, /(\s*<cbc:DueDate>.*<\/cbc:DueDate>)(\s*<cbc:InvoiceTypeCode>.*<\/cbc:InvoiceTypeCode>)/, '$2$1'],
      [creditNote, /(\s*<cac:Item>[\s\S]*?<\/cac:Item>)(\s*<cac:Price>[\s\S]*?<\/cac:Price>)/, '$2$1'],
      [creditNote, '<cbc:Note>Erreur de quantité</cbc:Note>', '<cbc:Note>a</cbc:Note><cbc:Note>b</cbc:Note>'],
      [creditNote, '<cbc:CreditNoteTypeCode>', '<cbc:DueDate>2027-02-27</cbc:DueDate><cbc:CreditNoteTypeCode>'],
      [runInvoice, /<cac:PaymentTerms>([\s\S]*?)<\/cac:PaymentTerms>/, '<cbc:PaymentTerms>$1</cbc:PaymentTerms>'],
      [runInvoice, '<cbc:IssueDate>2027-01-28</cbc:IssueDate>', '<cbc:IssueDate>2027-02-30</cbc:IssueDate>'],
      [runInvoice, '<cbc:PriceAmount currencyID="EUR">12.50</cbc:PriceAmount>', '<cbc:PriceAmount>12.50</cbc:PriceAmount>'],
    ] as const) {
      const changed = xml.replace(from, to);
      expect(changed).not.toBe(xml);
      expect(checkPeppolUbl(changed).ok, String(from)).toBe(false);
      expect(xmllint(changed), String(from)).toMatch(/fails to validate/);
    }
  });
});

describe('Peppol BIS 3.0 / EN 16931 rules', () => {
  it('PEPPOL-COMMON-R043: a 0208 identifier is an enterprise number with its mod 97 check; BR-CO-09 for the VAT id', () => {
    expect(errorsAfter(runInvoice, '<cbc:EndpointID schemeID="0208">0455218921', '<cbc:EndpointID schemeID="0208">0455218922')).toEqual(only('PEPPOL-COMMON-R043: EndpointID 0455218922'));
    expect(errorsAfter(runInvoice, '<cbc:CompanyID schemeID="0208">0812345603', '<cbc:CompanyID schemeID="0208">2812345603')).toEqual(only('PEPPOL-COMMON-R043: CompanyID 2812345603'));
    expect(errorsAfter(runInvoice, '<cbc:CompanyID>BE0455218921', '<cbc:CompanyID>BE0455218912')).toEqual(only('BR-CO-09: buyer VAT identifier BE0455218912'));
    expect(errorsAfter(runInvoice, '<cbc:CompanyID>BE0455218921', '<cbc:CompanyID>0455218921')).toEqual(only('BR-CO-09: buyer VAT identifier 0455218921'));
  });

  it('BT-83: the structured communication carries its mod 97 check', () => {
    expect(errorsAfter(runInvoice, '+++202/7000/00223+++', '+++202/7000/00224+++')).toEqual(only('BT-83'));
  });

  it('BR-CO-25: an amount due needs a due date or payment terms', () => {
    const noTerms = runInvoice.replace(/<cac:PaymentTerms>[\s\S]*?<\/cac:PaymentTerms>/, '');
    expect(checkPeppolUbl(noTerms).ok).toBe(true);
    expect(errorsAfter(noTerms, /<cbc:DueDate>.*<\/cbc:DueDate>/, '')).toEqual(only('BR-CO-25'));
    // Nothing due: neither is needed.
    const zero = toUbl(sampleDocument({ lines: [RUN_LINES[1]!, { type: 'defect_credit', quantity: 1, amountCents: -3750, vatRate: 21 }] }));
    expect(zero).toContain('<cbc:PayableAmount currencyID="EUR">0.00</cbc:PayableAmount>');
    expect(checkPeppolUbl(zero.replace(/<cac:PaymentTerms>[\s\S]*?<\/cac:PaymentTerms>/, '').replace(/<cbc:DueDate>.*<\/cbc:DueDate>/, '')).errors).toEqual([]);
  });

  it('periods: BR-29 end ≥ start, BR-CO-19 start or end, PEPPOL-EN16931-R110/R111 a line within the invoice period', () => {
    expect(errorsAfter(runInvoice, '<cbc:EndDate>2027-02-28</cbc:EndDate>\n  </cac:InvoicePeriod>', '<cbc:EndDate>2026-12-31</cbc:EndDate>\n  </cac:InvoicePeriod>')).toEqual(
      among('BR-29: document period ends 2026-12-31 before it starts 2027-01-15', 'PEPPOL-EN16931-R111: line 1 ends 2027-01-31'),
    );
    expect(errorsAfter(runInvoice, /<cac:InvoicePeriod>\s*<cbc:StartDate>2027-01-15<\/cbc:StartDate>\s*<cbc:EndDate>2027-02-28<\/cbc:EndDate>\s*<\/cac:InvoicePeriod>/, '<cac:InvoicePeriod><cbc:Description>x</cbc:Description></cac:InvoicePeriod>')).toEqual(
      among('is not an element of Period', 'BR-CO-19'),
    );
    expect(errorsAfter(runInvoice, '<cbc:StartDate>2027-01-15</cbc:StartDate>\n      <cbc:EndDate>2027-01-31</cbc:EndDate>', '<cbc:StartDate>2026-12-15</cbc:StartDate>\n      <cbc:EndDate>2027-01-31</cbc:EndDate>')).toEqual(
      only('PEPPOL-EN16931-R110: line 1 starts 2026-12-15, before the invoice period 2027-01-15'),
    );
    expect(errorsAfter(runInvoice, '<cbc:StartDate>2027-01-15</cbc:StartDate>\n      <cbc:EndDate>2027-01-31</cbc:EndDate>', '<cbc:StartDate>2027-01-31</cbc:StartDate>\n      <cbc:EndDate>2027-01-15</cbc:EndDate>')).toEqual(
      only('BR-30: line 1 period ends 2027-01-15 before it starts 2027-01-31'),
    );
  });

  it('line quantities: BR-23 unit of measure, PEPPOL-EN16931-R121 positive base quantity, R130 same unit', () => {
    expect(errorsAfter(runInvoice, '<cbc:InvoicedQuantity unitCode="C62">7</cbc:InvoicedQuantity>', '<cbc:InvoicedQuantity>7</cbc:InvoicedQuantity>')).toEqual(only('BR-23: line 4', 'PEPPOL-EN16931-R130: line 4'));
    expect(errorsAfter(runInvoice, '<cbc:BaseQuantity unitCode="C62">7</cbc:BaseQuantity>', '<cbc:BaseQuantity unitCode="C62">0</cbc:BaseQuantity>')).toEqual(only('PEPPOL-EN16931-R121: line 4'));
    expect(errorsAfter(runInvoice, '<cbc:BaseQuantity unitCode="C62">7</cbc:BaseQuantity>', '<cbc:BaseQuantity unitCode="HUR">7</cbc:BaseQuantity>')).toEqual(only('PEPPOL-EN16931-R130: line 4'));
  });

  it('category rates: BR-S-05 (S above 0), BR-E-05 (E at 0), BR-48 (a breakdown rate except for O)', () => {
    expect(errorsAfter(runInvoice, /(<cac:ClassifiedTaxCategory>\s*<cbc:ID>S<\/cbc:ID>\s*)<cbc:Percent>21<\/cbc:Percent>/, '$1')).toEqual(
      among('BR-S-05: line 1', 'BR-CO-18 / BR-S-01: no VAT breakdown for lines of S:?'),
    );
    expect(errorsAfter(runInvoice, /(<cac:ClassifiedTaxCategory>\s*<cbc:ID>E<\/cbc:ID>\s*)<cbc:Percent>0<\/cbc:Percent>/, '$1<cbc:Percent>6</cbc:Percent>')).toEqual(among('BR-E-05: line 6'));
    expect(errorsAfter(runInvoice, /(<cac:TaxCategory>\s*<cbc:ID>E<\/cbc:ID>\s*)<cbc:Percent>0<\/cbc:Percent>/, '$1')).toEqual(among('BR-48: VAT breakdown E without a rate'));
  });

  it('category O: BR-O-12 no line of another category, BR-O-02 no VAT identifier, BR-O-10 an exemption reason', () => {
    expect(errorsAfter(feesOnly, /(<cac:ClassifiedTaxCategory>\s*)<cbc:ID>O<\/cbc:ID>/, '$1<cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>')).toEqual(
      among('BR-O-12: a category O breakdown with lines of another category'),
    );
    expect(errorsAfter(feesOnly, '<cac:PartyLegalEntity>', '<cac:PartyTaxScheme><cbc:CompanyID>BE0812345603</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme><cac:PartyLegalEntity>')).toEqual(
      only('BR-O-02'),
    );
    expect(errorsAfter(feesOnly, /<cbc:TaxExemptionReasonCode>.*<\/cbc:TaxExemptionReasonCode>\s*<cbc:TaxExemptionReason>.*<\/cbc:TaxExemptionReason>/, '')).toEqual(only('BR-O-10'));
  });

  it('a hand-written invoice with the parts we never emit: order reference, two standard rates, a prepaid amount', () => {
    const xml = readFileSync(join(FIXTURES, 'invoice-two-rates-prepaid.xml'), 'utf8');
    expect(checkPeppolUbl(xml)).toEqual({ ok: true, errors: [] });
    // The 6 % breakdown must hold the 6 % line: 30.00 → 1.80 (BR-CO-17), keyed by rate ("21.00" = "21").
    expect(errorsAfter(xml, '<cbc:TaxAmount currencyID="EUR">1.80</cbc:TaxAmount>', '<cbc:TaxAmount currencyID="EUR">1.81</cbc:TaxAmount>')).toEqual(among('BR-CO-17/BR-S-09: VAT of S:6', 'BR-CO-14'));
    expect(errorsAfter(xml, /<cac:OrderReference>[\s\S]*?<\/cac:OrderReference>/, '')).toEqual(only('PEPPOL-EN16931-R003'));
    expect(errorsAfter(xml, '<cbc:PrepaidAmount currencyID="EUR">50.00</cbc:PrepaidAmount>', '')).toEqual(only('BR-CO-16'));
  });
});
