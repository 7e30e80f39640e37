/**
 * Peppol BIS Billing 3.0 UBL of invoices and credit notes: well-formed (xmllint), the
 * Peppol / EN 16931 rules that matter (ubl-check.ts), and — when E2P_UBL_XSD_DIR points
 * to the OASIS UBL 2.1 `xsd/` (or `xsdrt/`) directory — valid against the UBL 2.1 XSD
 * with `xmllint --schema` (issue #5), and ubl-check.ts's subset compared with the OASIS
 * sequences. The OASIS schemas are read from that directory, never copied into the
 * repository; the modules it lacks are overlaid, in a temporary copy, by our stand-ins of
 * test/fixtures/ubl-xsd-standins/ (see its README), and the test names which.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_LINES, sampleDocument } from '../../../../test/support/billing-documents.ts';
import { checkPeppolUbl, parseXml, UBL_NAMESPACES, UBL_SUBSET, type Particle, type XmlNode } from './ubl-check.ts';
import { escapeXml, linePricing, toUbl } from './ubl.ts';

const dir = mkdtempSync(join(tmpdir(), 'e2p-ubl-'));
let n = 0;
function xmllint(xml: string, schema?: string): void {
  const file = join(dir, `doc-${n++}.xml`);
  writeFileSync(file, xml);
  execFileSync('xmllint', ['--noout', ...(schema ? ['--schema', schema] : []), file], { stdio: 'pipe' });
}
/** What `xmllint --schema` says of `xml` when it is invalid ('' when valid). */
function schemaErrors(xml: string, schema: string): string {
  try {
    xmllint(xml, schema);
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
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

  const source = process.env.E2P_UBL_XSD_DIR;
  const overlay = source ? overlaidSchemas(source) : null;
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (overlay) rmSync(dirname(overlay.dir), { recursive: true, force: true });
  });
  const xsdDir = overlay?.dir ?? '';
  const schemaOf = (root: 'Invoice' | 'CreditNote'): string => join(xsdDir, 'maindoc', `UBL-${root}-2.1.xsd`);
  if (!overlay) {
    it.skip('XSD validation against the OASIS UBL 2.1 schemas (xmllint --schema) — skipped: set E2P_UBL_XSD_DIR to the xsd/ (or xsdrt/) directory of the OASIS UBL 2.1 schemas; the modules it lacks are replaced by the stand-ins of test/fixtures/ubl-xsd-standins/ (.ci/run sets it to /work/ubl-xsd/xsd when that exists)', () => {});
  } else {
    const standIns = overlay.standIns.length > 0 ? overlay.standIns.join(', ') : 'none';
    it(`E2P_UBL_XSD_DIR with our stand-ins holds every schema the Invoice and CreditNote schemas import (stand-ins used: ${standIns})`, () => {
      for (const root of ['Invoice', 'CreditNote'] as const) {
        expect(existsSync(schemaOf(root)), `${join(source!, 'maindoc', `UBL-${root}-2.1.xsd`)} not found: E2P_UBL_XSD_DIR must be the xsd/ or xsdrt/ directory`).toBe(true);
        expect(missingImports(schemaOf(root)), `schemas imported by UBL-${root}-2.1.xsd (directly or not) missing from E2P_UBL_XSD_DIR and from our stand-ins`).toEqual([]);
      }
    });

    it('every document is valid against the OASIS UBL 2.1 XSD (E2P_UBL_XSD_DIR)', () => {
      expect(missingImports(schemaOf('Invoice')), 'incomplete E2P_UBL_XSD_DIR').toEqual([]);
      for (const [name, doc] of Object.entries(documents)) {
        expect(schemaErrors(toUbl(doc), schemaOf(doc.kind === 'invoice' ? 'Invoice' : 'CreditNote')), name).toBe('');
      }
      // Two standard rates, an order reference, a prepaid amount: the parts we never emit.
      expect(schemaErrors(readFileSync(join(import.meta.dirname, '../../../../test/fixtures/ubl/invoice-two-rates-prepaid.xml'), 'utf8'), schemaOf('Invoice'))).toBe('');
    });

    it('the XSD validation fails on an element out of order, a required element left out, a missing or unknown attribute, a bad date', () => {
      const invoice = toUbl(documents['run invoice (S with E for interest and fees)']);
      const credit = toUbl(documents['credit note (partial)']);
      const errors = (xml: string, root: 'Invoice' | 'CreditNote' = 'Invoice'): string => schemaErrors(xml, schemaOf(root));
      expect(errors(invoice)).toBe('');
      expect(errors(credit, 'CreditNote')).toBe('');
      // cbc:InvoiceTypeCode moved before cbc:IssueDate.
      const typeCode = /\s*<cbc:InvoiceTypeCode>380<\/cbc:InvoiceTypeCode>/.exec(invoice)![0];
      const swapped = invoice.replace(typeCode, '').replace('<cbc:IssueDate>', `${typeCode.trim()}\n  <cbc:IssueDate>`);
      expect(errors(swapped)).toMatch(/InvoiceTypeCode.*This element is not expected/);
      // cac:LegalMonetaryTotal is required (1..1) before the lines.
      expect(errors(invoice.replace(/<cac:LegalMonetaryTotal>[\s\S]*?<\/cac:LegalMonetaryTotal>/, ''))).toMatch(/InvoiceLine.*This element is not expected.*LegalMonetaryTotal/);
      // currencyID is required on every amount (UBL unqualified data type AmountType).
      expect(errors(invoice.replace('<cbc:PayableAmount currencyID="EUR">', '<cbc:PayableAmount>'))).toMatch(/PayableAmount.*currencyID.*required/);
      expect(errors(invoice.replace('<cbc:CustomizationID>', '<cbc:CustomizationID unknownAttribute="1">'))).toMatch(/unknownAttribute.*not allowed/);
      expect(errors(invoice.replace(/<cbc:IssueDate>[^<]*<\/cbc:IssueDate>/, '<cbc:IssueDate>2027-02-30</cbc:IssueDate>'))).toMatch(/IssueDate.*not a valid value.*date/);
      // A credit note line with an invoice's quantity element.
      expect(errors(credit.replace(/<(\/?)cbc:CreditedQuantity/g, '<$1cbc:InvoicedQuantity'), 'CreditNote')).toMatch(/InvoicedQuantity.*This element is not expected/);
    });

    it("ubl-check.ts's subset has the OASIS sequences: Invoice and CreditNote (maindoc)", () => {
      const xsd = oasisSequences(xsdDir);
      expect(subsetAgainstXsd(UBL_SUBSET, xsd, ['Invoice', 'CreditNote'])).toEqual([]);
    });

    it("ubl-check.ts's subset has the OASIS sequences: every aggregate type our documents use (common/UBL-CommonAggregateComponents-2.1.xsd)", () => {
      const xsd = oasisSequences(xsdDir);
      expect(xsd.aggregates, `${join(source!, 'common', 'UBL-CommonAggregateComponents-2.1.xsd')} not found`).not.toBeNull();
      expect(subsetAgainstXsd(UBL_SUBSET, xsd, [...UBL_SUBSET.keys()])).toEqual([]);
    });

    it('the comparison reports an element out of its XSD order, a cardinality wider than the XSD, a required element left out', () => {
      const xsd = oasisSequences(xsdDir);
      const invoice = UBL_SUBSET.get('Invoice')!;
      const at = (name: string): number => invoice.findIndex((p) => p.name === name);
      const swapped = [...invoice];
      [swapped[at('DueDate')], swapped[at('InvoiceTypeCode')]] = [swapped[at('InvoiceTypeCode')]!, swapped[at('DueDate')]!];
      const altered = (seq: Particle[]): Map<string, readonly Particle[]> => new Map([...UBL_SUBSET, ['Invoice', seq]]);
      expect(subsetAgainstXsd(altered(swapped), xsd, ['Invoice'])).toEqual([expect.stringContaining('Invoice: cbc:DueDate is not in the XSD sequence after cbc:InvoiceTypeCode')]);
      expect(subsetAgainstXsd(altered(invoice.map((p) => (p.name === 'ID' ? { ...p, max: 2 } : p))), xsd, ['Invoice'])).toEqual([
        expect.stringContaining('Invoice: cbc:ID 1..2, the XSD allows 1..1'),
      ]);
      expect(subsetAgainstXsd(altered(invoice.filter((p) => p.name !== 'IssueDate')), xsd, ['Invoice'])).toEqual([expect.stringContaining('Invoice: cbc:IssueDate is required by the XSD')]);
    });
  }
});

/**
 * The schemas of `source` (E2P_UBL_XSD_DIR) copied into a temporary directory, where each
 * schema module `source` lacks is filled in from our stand-ins (test/fixtures/ubl-xsd-standins,
 * same relative path): the official files always win; `standIns` names the files filled in.
 */
function overlaidSchemas(source: string): { dir: string; standIns: string[] } {
  const standInDir = join(import.meta.dirname, '../../../../test/fixtures/ubl-xsd-standins');
  const dir = join(mkdtempSync(join(tmpdir(), 'e2p-ubl-xsd-')), 'xsd');
  if (existsSync(source)) cpSync(source, dir, { recursive: true });
  const standIns: string[] = [];
  for (const sub of readdirSync(standInDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const name of readdirSync(join(standInDir, sub.name)).filter((f) => f.endsWith('.xsd'))) {
      const target = join(dir, sub.name, name);
      if (existsSync(target)) continue;
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(standInDir, sub.name, name), target);
      standIns.push(`${sub.name}/${name}`);
    }
  }
  return { dir, standIns };
}

/** The schema files `file` imports or includes, transitively, that do not exist. */
function missingImports(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  if (!existsSync(file)) return [file];
  const locations = [...readFileSync(file, 'utf8').matchAll(/<xsd:(?:import|include)\b[^>]*?schemaLocation="([^"]+)"/g)].map((m) => resolve(dirname(file), m[1]!));
  return locations.flatMap((f) => missingImports(f, seen));
}

interface XsdParticle {
  uri: string;
  name: string;
  min: number;
  max: number;
}
/** A complexType's sequence of element refs, with the namespace URI of each ref. */
function sequenceOf(schema: XmlNode, type: XmlNode): XsdParticle[] {
  const sequence = type.children.find((c) => c.name === 'xsd:sequence');
  return (sequence?.children ?? [])
    .filter((c) => c.name === 'xsd:element' && c.attrs.ref !== undefined)
    .map((c) => {
      const [prefix, name] = c.attrs.ref!.split(':') as [string, string];
      const max = c.attrs.maxOccurs ?? '1';
      return { uri: schema.attrs[`xmlns:${prefix}`] ?? '', name, min: Number(c.attrs.minOccurs ?? '1'), max: max === 'unbounded' ? Infinity : Number(max) };
    });
}
interface OasisSequences {
  /** Invoice / CreditNote: the maindoc sequence. */
  roots: Map<string, XsdParticle[]>;
  /** The CommonAggregateComponents: complexType name → sequence, element name → its type; null when the file is absent. */
  aggregates: { types: Map<string, XsdParticle[]>; elementType: Map<string, string> } | null;
}
/** The sequences of the OASIS UBL 2.1 files under `dir` (xsd/ or xsdrt/: the same sequences). */
function oasisSequences(dir: string): OasisSequences {
  const roots = new Map<string, XsdParticle[]>();
  for (const root of ['Invoice', 'CreditNote']) {
    const schema = parseXml(readFileSync(join(dir, 'maindoc', `UBL-${root}-2.1.xsd`), 'utf8'));
    const type = schema.children.find((c) => c.name === 'xsd:complexType' && c.attrs.name === `${root}Type`);
    if (!type) throw new Error(`maindoc/UBL-${root}-2.1.xsd: no ${root}Type`);
    roots.set(root, sequenceOf(schema, type));
  }
  const cacFile = join(dir, 'common', 'UBL-CommonAggregateComponents-2.1.xsd');
  if (!existsSync(cacFile)) return { roots, aggregates: null };
  const cac = parseXml(readFileSync(cacFile, 'utf8'));
  const types = new Map(cac.children.filter((c) => c.name === 'xsd:complexType').map((t) => [t.attrs.name!, sequenceOf(cac, t)]));
  const elementType = new Map(cac.children.filter((c) => c.name === 'xsd:element' && c.attrs.type !== undefined).map((e) => [e.attrs.name!, e.attrs.type!]));
  return { roots, aggregates: { types, elementType } };
}

/**
 * Where our subset (ubl-check.ts) departs from the OASIS sequences, for the types `check`:
 * each of our elements must be in the XSD sequence of its type, in the XSD order, with a
 * cardinality within the XSD's (Peppol may narrow it, never widen it), and every element
 * the XSD requires must be in our subset. A cac element's type is the XSD's
 * (`<xsd:element name type>` of the aggregate components); our aliases (LineTaxCategory)
 * map to it.
 */
function subsetAgainstXsd(subset: ReadonlyMap<string, readonly Particle[]>, xsd: OasisSequences, check: string[]): string[] {
  const errors: string[] = [];
  const xsdType = new Map<string, string>([
    ['Invoice', 'Invoice'],
    ['CreditNote', 'CreditNote'],
  ]);
  if (xsd.aggregates) {
    for (const seq of subset.values()) {
      for (const p of seq.filter((q) => q.ns === 'cac')) {
        const t = xsd.aggregates.elementType.get(p.name)?.replace(/Type$/, '');
        if (t === undefined) errors.push(`cac:${p.name} is not an element of the aggregate components`);
        else if ((xsdType.get(p.type) ?? t) !== t) errors.push(`${p.type} is both ${xsdType.get(p.type)}Type and ${t}Type in the XSD`);
        else xsdType.set(p.type, t);
      }
    }
  }
  const prefixOf = (uri: string): string => Object.entries(UBL_NAMESPACES).find(([, u]) => u === uri)?.[0] ?? uri;
  const card = (min: number, max: number): string => `${min}..${max === Infinity ? 'n' : max}`;
  for (const ours of check) {
    const t = xsdType.get(ours);
    const seq = t === 'Invoice' || t === 'CreditNote' ? xsd.roots.get(t) : t !== undefined ? xsd.aggregates?.types.get(`${t}Type`) : undefined;
    if (!seq) {
      errors.push(`${ours}: no XSD sequence found`);
      continue;
    }
    let next = 0;
    let previous = '(start)';
    for (const p of subset.get(ours)!) {
      const i = seq.findIndex((x, j) => j >= next && x.name === p.name && x.uri === UBL_NAMESPACES[p.ns]);
      if (i < 0) {
        errors.push(`${ours}: ${p.ns}:${p.name} is not in the XSD sequence after ${previous}`);
        continue;
      }
      const x = seq[i]!;
      if (p.min < x.min || p.max > x.max) errors.push(`${ours}: ${p.ns}:${p.name} ${card(p.min, p.max)}, the XSD allows ${card(x.min, x.max)}`);
      next = i + 1;
      previous = `${p.ns}:${p.name}`;
    }
    for (const x of seq.filter((q) => q.min > 0)) {
      if (!subset.get(ours)!.some((p) => p.name === x.name && UBL_NAMESPACES[p.ns] === x.uri && p.min > 0)) errors.push(`${ours}: ${prefixOf(x.uri)}:${x.name} is required by the XSD`);
    }
  }
  return errors;
}
