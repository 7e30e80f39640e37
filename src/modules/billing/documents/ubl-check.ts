/**
 * A checker of the Peppol BIS Billing 3.0 / EN 16931 rules that matter for our documents,
 * run on the generated XML (tests, and `easy2phone invoice show --ubl`): the element order
 * and cardinality an XSD would check (our own subset of the UBL 2.1 schema, below), the
 * mandatory elements, the BR-CO sums, the VAT breakdown per category against the lines,
 * rounding, the category rules for S, E and O, periods, identifiers. Not the full Peppol
 * schematron; validation against the OASIS XSD itself (`xmllint --schema`, issue #5) is
 * the E2P_UBL_XSD_DIR test of ubl.test.ts, which fills the modules that directory lacks
 * with our stand-ins (test/fixtures/ubl-xsd-standins). Exact decimal arithmetic in bigint
 * cents.
 */
import { parseEnterpriseNumber } from '../../../kernel/enterprise-number.ts';
import { isValid as isStructuredCommunication } from '../../../kernel/structured-communication.ts';
import { isLocalDate } from '../../../kernel/time.ts'; // YYYY-MM-DD, a real day: xsd:date as Peppol wants it (F001)

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (s: string): string =>
  s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ENTITIES[e]!,
  );

/** A minimal XML parser (elements, attributes, text; declaration and comments skipped) — enough for UBL. */
export function parseXml(xml: string): XmlNode {
  const re = /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<\/([^\s>]+)\s*>|<([^\s/>]+)((?:\s+[^\s=]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  const root: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml)) !== null) {
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) {
      if (top.name !== m[1]) throw new Error(`XML: </${m[1]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[2] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = unescape(a[2] ?? a[3] ?? '');
      const node: XmlNode = { name: m[2], attrs, children: [], text: '' };
      top.children.push(node);
      if (m[4] !== '/') stack.push(node);
    } else if (m[5] !== undefined) {
      top.text += unescape(m[5]);
    }
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> not closed`);
  const [doc] = root.children;
  if (!doc || root.children.length !== 1) throw new Error('XML: expected one root element');
  return doc;
}

const local = (name: string): string => name.slice(name.indexOf(':') + 1);
const kids = (n: XmlNode | undefined, name: string): XmlNode[] => (n ? n.children.filter((c) => local(c.name) === name) : []);
const kid = (n: XmlNode | undefined, ...path: string[]): XmlNode | undefined => {
  let cur = n;
  for (const p of path) cur = kids(cur, p)[0];
  return cur;
};
const val = (n: XmlNode | undefined, ...path: string[]): string | undefined => {
  const t = kid(n, ...path)?.text.trim();
  return t === undefined || t === '' ? undefined : t;
};

/** "123.45" → 12345n; at most 2 decimals (BR-DEC). */
function cents(s: string | undefined, where: string, errors: string[]): bigint {
  if (s === undefined) {
    errors.push(`${where}: missing amount`);
    return 0n;
  }
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) {
    errors.push(`${where}: "${s}" is not an amount with at most 2 decimals (BR-DEC)`);
    return 0n;
  }
  const v = BigInt(m[2]! + (m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -v : v;
}

/** A decimal as a fraction numerator / 10^scale. */
function decimal(s: string | undefined): { n: bigint; scale: number } | null {
  const m = s === undefined ? null : /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return null;
  const frac = m[3] ?? '';
  const n = BigInt(m[2]! + frac);
  return { n: m[1] === '-' ? -n : n, scale: frac.length };
}

/** Half-up (away from zero) of a / b to an integer. */
function roundDiv(a: bigint, b: bigint): bigint {
  const neg = a < 0n !== b < 0n;
  const [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  const q = (2n * x + y) / (2n * y);
  return neg ? -q : q;
}

const NS_URI = {
  cac: 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
  cbc: 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
} as const;

/**
 * Our own subset of the UBL 2.1 schema — written for this checker, not the OASIS files:
 * for each aggregate type we emit (and the few more elements the rules below read:
 * OrderReference, PartyIdentification, the optional totals), its children in the order
 * of the UBL 2.1 XSD sequences (maindoc Invoice / CreditNote, common aggregate types;
 * elements we never use left out, their neighbours keep their relative order), with the
 * cardinality of the Peppol BIS Billing 3.0 syntax binding, which narrows UBL's (one
 * document Note, PEPPOL-EN16931-R002; one PaymentTerms; Item/Name, Price and the
 * ClassifiedTaxCategory mandatory…). An element outside this subset is reported, never
 * skipped: a new element in ubl.ts must be added here, at its XSD position. Compared with
 * the OASIS sequences themselves by ubl.test.ts when E2P_UBL_XSD_DIR is set (order,
 * cardinality within the XSD's, required elements): no difference with the UBL 2.1 CS1
 * xsdrt maindoc and CommonAggregateComponents on 2026-11-27 (docs/operator-guide.md
 * "Peppol UBL"), nor with the PRD4 xsdrt set (maindoc, CommonAggregate and
 * CommonBasicComponents) that every sample document also validates against with xmllint.
 * Notation: `ns:Name[=Type] card`, card `1` (1..1), `?` (0..1), `*` (0..n), `+` (1..n), `a..b`.
 */
const HEADER = ['cbc:CustomizationID 1', 'cbc:ProfileID 1', 'cbc:ID 1', 'cbc:IssueDate 1'];
const PARTIES_TO_LINES = [
  'cbc:Note ?',
  'cbc:DocumentCurrencyCode 1',
  'cbc:BuyerReference ?',
  'cac:InvoicePeriod=Period ?',
  'cac:OrderReference ?',
  'cac:BillingReference *',
  'cac:AccountingSupplierParty=SupplierParty 1',
  'cac:AccountingCustomerParty=CustomerParty 1',
  'cac:PaymentMeans *',
  'cac:PaymentTerms ?',
  'cac:TaxTotal 1..2',
  'cac:LegalMonetaryTotal=MonetaryTotal 1',
];
const LINE = (quantity: string): string[] => ['cbc:ID 1', 'cbc:Note ?', `cbc:${quantity} 1`, 'cbc:LineExtensionAmount 1', 'cac:InvoicePeriod=Period ?', 'cac:Item 1', 'cac:Price 1'];
const STRUCTURE: Record<string, readonly string[]> = {
  // UBL 2.1 Invoice: DueDate before InvoiceTypeCode; CreditNote has no DueDate (BT-9 would be PaymentMeans/PaymentDueDate).
  Invoice: [...HEADER, 'cbc:DueDate ?', 'cbc:InvoiceTypeCode 1', ...PARTIES_TO_LINES, 'cac:InvoiceLine +'],
  CreditNote: [...HEADER, 'cbc:CreditNoteTypeCode 1', ...PARTIES_TO_LINES, 'cac:CreditNoteLine +'],
  Period: ['cbc:StartDate ?', 'cbc:EndDate ?'],
  OrderReference: ['cbc:ID 1'],
  BillingReference: ['cac:InvoiceDocumentReference=DocumentReference 1'],
  DocumentReference: ['cbc:ID 1', 'cbc:IssueDate ?'],
  SupplierParty: ['cac:Party 1'],
  CustomerParty: ['cac:Party 1'],
  Party: ['cbc:EndpointID 1', 'cac:PartyIdentification *', 'cac:PartyName ?', 'cac:PostalAddress=Address 1', 'cac:PartyTaxScheme 0..2', 'cac:PartyLegalEntity 1', 'cac:Contact ?'],
  PartyIdentification: ['cbc:ID 1'],
  PartyName: ['cbc:Name 1'],
  Address: ['cbc:StreetName ?', 'cbc:AdditionalStreetName ?', 'cbc:CityName ?', 'cbc:PostalZone ?', 'cac:Country 1'],
  Country: ['cbc:IdentificationCode 1'],
  PartyTaxScheme: ['cbc:CompanyID 1', 'cac:TaxScheme 1'],
  TaxScheme: ['cbc:ID 1'],
  PartyLegalEntity: ['cbc:RegistrationName 1', 'cbc:CompanyID ?', 'cbc:CompanyLegalForm ?'],
  Contact: ['cbc:Name ?', 'cbc:Telephone ?', 'cbc:ElectronicMail ?'],
  PaymentMeans: ['cbc:PaymentMeansCode 1', 'cbc:PaymentID ?', 'cac:PayeeFinancialAccount=FinancialAccount ?'],
  FinancialAccount: ['cbc:ID 1', 'cbc:Name ?', 'cac:FinancialInstitutionBranch=Branch ?'],
  Branch: ['cbc:ID 1'],
  PaymentTerms: ['cbc:Note 1'],
  TaxTotal: ['cbc:TaxAmount 1', 'cac:TaxSubtotal *'],
  TaxSubtotal: ['cbc:TaxableAmount 1', 'cbc:TaxAmount 1', 'cac:TaxCategory 1'],
  TaxCategory: ['cbc:ID 1', 'cbc:Percent ?', 'cbc:TaxExemptionReasonCode ?', 'cbc:TaxExemptionReason ?', 'cac:TaxScheme 1'],
  MonetaryTotal: [
    'cbc:LineExtensionAmount 1',
    'cbc:TaxExclusiveAmount 1',
    'cbc:TaxInclusiveAmount 1',
    'cbc:AllowanceTotalAmount ?',
    'cbc:ChargeTotalAmount ?',
    'cbc:PrepaidAmount ?',
    'cbc:PayableRoundingAmount ?',
    'cbc:PayableAmount 1',
  ],
  InvoiceLine: LINE('InvoicedQuantity'),
  CreditNoteLine: LINE('CreditedQuantity'),
  Item: ['cbc:Description ?', 'cbc:Name 1', 'cac:SellersItemIdentification=ItemIdentification ?', 'cac:ClassifiedTaxCategory=LineTaxCategory 1'],
  ItemIdentification: ['cbc:ID 1'],
  // Peppol: a line's category carries no exemption reason (that is the breakdown's, BT-120/121).
  LineTaxCategory: ['cbc:ID 1', 'cbc:Percent ?', 'cac:TaxScheme 1'],
  Price: ['cbc:PriceAmount 1', 'cbc:BaseQuantity ?'],
};

/** One child of a sequence: its namespace, name, type (aggregates) and cardinality. */
export interface Particle {
  ns: keyof typeof NS_URI;
  name: string;
  type: string;
  min: number;
  max: number;
}
const CARDINALITY: Record<string, [number, number]> = { '1': [1, 1], '?': [0, 1], '*': [0, Infinity], '+': [1, Infinity] };
function particle(spec: string): Particle {
  const m = /^(cac|cbc):(\w+)(?:=(\w+))? (1|\?|\*|\+|(\d+)\.\.(\d+))$/.exec(spec);
  if (!m) throw new Error(`UBL structure: bad particle ${spec}`);
  const [min, max] = CARDINALITY[m[4]!] ?? [Number(m[5]), Number(m[6])];
  return { ns: m[1] as Particle['ns'], name: m[2]!, type: m[3] ?? m[2]!, min, max };
}
const SEQUENCES = new Map(Object.entries(STRUCTURE).map(([type, specs]) => [type, specs.map(particle)]));
/** The sequences of STRUCTURE, by type (`Invoice`, `CreditNote`, then the aggregate types): the tests turn them into an XSD for xmllint. */
export const UBL_SUBSET: ReadonlyMap<string, readonly Particle[]> = SEQUENCES;
export { NS_URI as UBL_NAMESPACES };

/** The namespace bindings in scope at `n` (xmlns and xmlns:prefix attributes, inherited). */
function scopeOf(n: XmlNode, parent: Readonly<Record<string, string>>): Record<string, string> {
  const scope = { ...parent };
  for (const [k, v] of Object.entries(n.attrs)) {
    if (k === 'xmlns') scope[''] = v;
    else if (k.startsWith('xmlns:')) scope[k.slice(6)] = v;
  }
  return scope;
}

/** A basic (cbc) element: text only, not empty (PEPPOL-EN16931-R008), its data type by its UBL representation term. */
function checkBasic(n: XmlNode, path: string, errors: string[]): void {
  if (n.children.length > 0) errors.push(`UBL 2.1 XSD: ${path} is a basic element and cannot contain elements`);
  const text = n.text.trim();
  if (text === '') {
    errors.push(`PEPPOL-EN16931-R008: ${path} is empty`);
    return;
  }
  const term = /(Date|Amount|Quantity|Percent)$/.exec(local(n.name))?.[1];
  if (term === 'Date' && !isLocalDate(text)) errors.push(`UBL 2.1 XSD / PEPPOL-EN16931-F001: ${path} "${text}" is not a date YYYY-MM-DD`);
  if ((term === 'Amount' || term === 'Quantity' || term === 'Percent') && !/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) errors.push(`UBL 2.1 XSD: ${path} "${text}" is not a decimal`);
  if (term === 'Amount' && n.attrs.currencyID === undefined) errors.push(`UBL 2.1 XSD: ${path} without its required currencyID`);
}

/**
 * Checks an aggregate against its sequence in STRUCTURE, recursively: every child known,
 * in the XSD order, in the right namespace, occurring within its cardinality.
 */
function checkStructure(n: XmlNode, type: string, path: string, parentScope: Readonly<Record<string, string>>, errors: string[]): void {
  const seq = SEQUENCES.get(type)!;
  const scope = scopeOf(n, parentScope);
  if (n.text.trim() !== '') errors.push(`UBL 2.1 XSD: ${path} is an aggregate and cannot contain text`);
  if (n.children.length === 0) errors.push(`PEPPOL-EN16931-R008: ${path} is empty`);
  const counts = seq.map(() => 0);
  let at = 0;
  for (const child of n.children) {
    const childScope = scopeOf(child, scope);
    const colon = child.name.indexOf(':');
    const uri = childScope[colon < 0 ? '' : child.name.slice(0, colon)];
    const i = seq.findIndex((p) => p.name === local(child.name) && NS_URI[p.ns] === uri);
    if (i < 0) {
      const sameName = seq.find((p) => p.name === local(child.name));
      errors.push(
        sameName
          ? `UBL 2.1 XSD: ${path}/${child.name} must be in the ${sameName.ns} namespace (${NS_URI[sameName.ns]})`
          : `UBL 2.1 XSD: ${path}/${child.name} is not an element of ${type} (in the subset our documents use)`,
      );
      continue;
    }
    if (i < at) errors.push(`UBL 2.1 XSD order: ${path}/${child.name} is out of place, the ${type} sequence puts it before ${seq[at]!.ns}:${seq[at]!.name}`);
    at = Math.max(at, i);
    counts[i]!++;
    const p = seq[i]!;
    const where = `${path}/${p.ns}:${p.name}${p.max > 1 ? `[${counts[i]}]` : ''}`;
    if (p.ns === 'cac') checkStructure(child, p.type, where, childScope, errors);
    else checkBasic(child, where, errors);
  }
  seq.forEach((p, i) => {
    if (counts[i]! < p.min || counts[i]! > p.max) {
      errors.push(`cardinality (UBL 2.1 / Peppol BIS 3.0): ${path}/${p.ns}:${p.name} occurs ${counts[i]} time(s), ${type} allows ${p.min}..${p.max === Infinity ? 'n' : p.max}`);
    }
  });
}

export interface UblCheck {
  ok: boolean;
  errors: string[];
}

/** Canonical form of a VAT rate ("21.00" → "21"), for keying categories. */
const rateKey = (cat: string | undefined, pct: string | undefined): string => `${cat ?? '?'}:${cat === 'O' ? '0' : pct === undefined ? '?' : String(Number(pct))}`;

/** Checks one Peppol BIS 3 Invoice or CreditNote. */
export function checkPeppolUbl(xml: string): UblCheck {
  const errors: string[] = [];
  let root: XmlNode;
  try {
    root = parseXml(xml);
  } catch (e) {
    return { ok: false, errors: [(e as Error).message] };
  }
  const isCredit = root.name === 'CreditNote';
  if (!isCredit && root.name !== 'Invoice') return { ok: false, errors: [`root element ${root.name}: expected Invoice or CreditNote`] };
  const expectedNs = `urn:oasis:names:specification:ubl:schema:xsd:${isCredit ? 'CreditNote' : 'Invoice'}-2`;
  if (root.attrs.xmlns !== expectedNs) errors.push(`namespace ${root.attrs.xmlns}: expected ${expectedNs}`);
  checkStructure(root, root.name, `/${root.name}`, {}, errors);
  const need = (path: string[], rule: string): string | undefined => {
    const v = val(root, ...path);
    if (v === undefined) errors.push(`${rule}: ${path.join('/')} missing`);
    return v;
  };
  if (need(['CustomizationID'], 'BR-01') !== 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0') errors.push('BR-01 / PEPPOL-EN16931-R004: wrong CustomizationID');
  if (need(['ProfileID'], 'PEPPOL-EN16931-R001') !== 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0') errors.push('PEPPOL-EN16931-R007: wrong ProfileID');
  need(['ID'], 'BR-02');
  need(['IssueDate'], 'BR-03');
  const typeCode = need([isCredit ? 'CreditNoteTypeCode' : 'InvoiceTypeCode'], 'BR-04');
  if (typeCode !== undefined && typeCode !== (isCredit ? '381' : '380')) errors.push(`BR-04: type code ${typeCode}`);
  if (need(['DocumentCurrencyCode'], 'BR-05') !== 'EUR') errors.push('BR-05: currency is not EUR');
  if (val(root, 'BuyerReference') === undefined && val(root, 'OrderReference', 'ID') === undefined) errors.push('PEPPOL-EN16931-R003: BuyerReference (or OrderReference) missing');

  // PEPPOL-COMMON-R043: every identifier in scheme 0208 is a Belgian enterprise number (10 digits, 0 or 1 first, mod 97 check digits).
  for (const id of collect(root, (n) => n.attrs.schemeID === '0208')) {
    const text = id.text.trim();
    if (parseEnterpriseNumber(text)?.digits !== text) errors.push(`PEPPOL-COMMON-R043: ${local(id.name)} ${text} is not a Belgian enterprise number`);
  }
  for (const [role, path] of [
    ['seller', 'AccountingSupplierParty'],
    ['buyer', 'AccountingCustomerParty'],
  ] as const) {
    const p = kid(root, path, 'Party');
    if (!p) {
      errors.push(`${role === 'seller' ? 'BR-06' : 'BR-07'}: ${path}/Party missing`);
      continue;
    }
    const endpoint = kid(p, 'EndpointID');
    if (!endpoint) errors.push(`${role === 'seller' ? 'PEPPOL-EN16931-R020' : 'PEPPOL-EN16931-R010'}: ${role} EndpointID missing`);
    else if (endpoint.attrs.schemeID !== '0208') errors.push(`${role === 'seller' ? 'BR-62' : 'BR-63'}: ${role} EndpointID schemeID ${endpoint.attrs.schemeID}: expected 0208`);
    if (val(p, 'PartyLegalEntity', 'RegistrationName') === undefined) errors.push(`${role === 'seller' ? 'BR-06' : 'BR-07'}: ${role} RegistrationName missing`);
    if (val(p, 'PostalAddress', 'Country', 'IdentificationCode') === undefined) errors.push(`${role === 'seller' ? 'BR-09' : 'BR-11'}: ${role} country code missing`);
    for (const t of kids(p, 'PartyTaxScheme')) {
      const id = val(t, 'CompanyID');
      // BR-CO-09: a VAT identifier starts with its country code; ours are BE + the enterprise number.
      if (id !== undefined && (!id.startsWith('BE') || parseEnterpriseNumber(id.slice(2))?.digits !== id.slice(2))) errors.push(`BR-CO-09: ${role} VAT identifier ${id}: expected BE + an enterprise number`);
      if (val(t, 'TaxScheme', 'ID') !== 'VAT') errors.push(`${role} PartyTaxScheme without TaxScheme VAT`);
    }
  }
  const seller = kid(root, 'AccountingSupplierParty', 'Party');
  const buyer = kid(root, 'AccountingCustomerParty', 'Party');
  const sellerVat = val(seller, 'PartyTaxScheme', 'CompanyID');
  const buyerVat = val(buyer, 'PartyTaxScheme', 'CompanyID');
  if (sellerVat === undefined && val(seller, 'PartyLegalEntity', 'CompanyID') === undefined) errors.push('BR-CO-26: seller VAT identifier or legal registration missing');

  const pm = kid(root, 'PaymentMeans');
  if (pm) {
    const code = val(pm, 'PaymentMeansCode');
    if (code !== '30' && code !== '58') errors.push(`BR-49: PaymentMeansCode ${code}: expected 30 or 58`);
    const ref = val(pm, 'PaymentID');
    // BT-83 (remittance information): our Belgian structured communication, +++ddd/dddd/ddddd+++ with its mod 97 check.
    if (ref === undefined || !/^\+\+\+\d{3}\/\d{4}\/\d{5}\+\+\+$/.test(ref) || !isStructuredCommunication(ref)) errors.push(`BT-83: PaymentID ${ref}: expected a structured communication`);
    const iban = val(pm, 'PayeeFinancialAccount', 'ID');
    if (iban === undefined || !/^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$/.test(iban)) errors.push(`BR-50/BR-61: payee IBAN ${iban} missing or malformed`);
  } else errors.push('BR-49: PaymentMeans missing');

  // Periods: BR-CO-19/20 (start or end), BR-29/30 (end ≥ start), PEPPOL-EN16931-R110/R111 (a line's period within the document's).
  const period = (n: XmlNode | undefined, where: string, rules: [string, string]): { start?: string; end?: string } | null => {
    if (!n) return null;
    const [start, end] = [val(n, 'StartDate'), val(n, 'EndDate')];
    if (start === undefined && end === undefined) errors.push(`${rules[0]}: ${where} period without start or end date`);
    if (start !== undefined && end !== undefined && end < start) errors.push(`${rules[1]}: ${where} period ends ${end} before it starts ${start}`);
    return { start, end };
  };
  const docPeriod = period(kid(root, 'InvoicePeriod'), 'document', ['BR-CO-19', 'BR-29']);

  // Lines.
  const lines = kids(root, isCredit ? 'CreditNoteLine' : 'InvoiceLine');
  if (lines.length === 0) errors.push('BR-16: no line');
  const byCategory = new Map<string, bigint>();
  const lineCategories = new Set<string>();
  let lineSum = 0n;
  for (const l of lines) {
    const id = val(l, 'ID');
    if (id === undefined) errors.push('BR-21: line ID missing');
    const where = `line ${id ?? '?'}`;
    const amount = cents(val(l, 'LineExtensionAmount'), `${where} BR-24`, errors);
    lineSum += amount;
    if (val(l, 'Item', 'Name') === undefined) errors.push(`BR-25: ${where} item name missing`);
    const cat = val(l, 'Item', 'ClassifiedTaxCategory', 'ID');
    if (cat === undefined) errors.push(`BR-CO-04: ${where} VAT category missing`);
    else lineCategories.add(cat);
    const pct = val(l, 'Item', 'ClassifiedTaxCategory', 'Percent');
    if (cat === 'O' && pct !== undefined) errors.push(`BR-O-05: ${where} category O with a rate`);
    if (cat === 'S' && !(Number(pct) > 0)) errors.push(`BR-S-05: ${where} category S needs a rate above 0`);
    if (cat === 'E' && (pct === undefined || Number(pct) !== 0)) errors.push(`BR-E-05: ${where} category E needs the rate 0`);
    const key = rateKey(cat, pct);
    byCategory.set(key, (byCategory.get(key) ?? 0n) + amount);
    const lp = period(kid(l, 'InvoicePeriod'), where, ['BR-CO-20', 'BR-30']);
    if (lp?.start !== undefined && docPeriod?.start !== undefined && lp.start < docPeriod.start) errors.push(`PEPPOL-EN16931-R110: ${where} starts ${lp.start}, before the invoice period ${docPeriod.start}`);
    if (lp?.end !== undefined && docPeriod?.end !== undefined && lp.end > docPeriod.end) errors.push(`PEPPOL-EN16931-R111: ${where} ends ${lp.end}, after the invoice period ${docPeriod.end}`);
    // PEPPOL-EN16931-R120: line amount = quantity × price / base quantity, exactly to the cent; BR-27 price ≥ 0.
    const qtyNode = kid(l, isCredit ? 'CreditedQuantity' : 'InvoicedQuantity');
    const baseNode = kid(l, 'Price', 'BaseQuantity');
    if (qtyNode && qtyNode.attrs.unitCode === undefined) errors.push(`BR-23: ${where} quantity without unit of measure`);
    if (baseNode && baseNode.attrs.unitCode !== undefined && baseNode.attrs.unitCode !== qtyNode?.attrs.unitCode) errors.push(`PEPPOL-EN16931-R130: ${where} base quantity unit ≠ quantity unit`);
    const qty = decimal(qtyNode?.text.trim());
    const price = decimal(val(l, 'Price', 'PriceAmount'));
    const base = decimal(baseNode?.text.trim() ?? '1');
    if (!qty || !price || !base) errors.push(`BR-22/BR-26: ${where} quantity or price missing`);
    else if (base.n <= 0n) errors.push(`PEPPOL-EN16931-R121: ${where} base quantity must be positive`);
    else {
      if (price.n < 0n) errors.push(`BR-27: ${where} negative price`);
      const num = qty.n * price.n * 100n * 10n ** BigInt(base.scale);
      const den = base.n * 10n ** BigInt(qty.scale + price.scale);
      if (roundDiv(num, den) !== amount) errors.push(`PEPPOL-EN16931-R120: ${where} quantity × price / base ≠ line amount`);
    }
  }

  // Totals (BR-12..15, BR-CO-10, 13, 15, 16, 25).
  const t = kid(root, 'LegalMonetaryTotal');
  const optional = (name: string, rule: string): bigint => (val(t, name) === undefined ? 0n : cents(val(t, name), rule, errors));
  const lineExt = cents(val(t, 'LineExtensionAmount'), 'BR-12', errors);
  const taxExcl = cents(val(t, 'TaxExclusiveAmount'), 'BR-13', errors);
  const taxIncl = cents(val(t, 'TaxInclusiveAmount'), 'BR-14', errors);
  const payable = cents(val(t, 'PayableAmount'), 'BR-15', errors);
  const allowances = optional('AllowanceTotalAmount', 'BT-107');
  const charges = optional('ChargeTotalAmount', 'BT-108');
  const prepaid = optional('PrepaidAmount', 'BT-113');
  const rounding = optional('PayableRoundingAmount', 'BT-114');
  if (lineExt !== lineSum) errors.push(`BR-CO-10: LineExtensionAmount ${lineExt} ≠ sum of lines ${lineSum}`);
  if (taxExcl !== lineExt - allowances + charges) errors.push('BR-CO-13: TaxExclusiveAmount ≠ lines − allowances + charges');
  const taxTotals = kids(root, 'TaxTotal');
  if (taxTotals.length !== 1) errors.push(`PEPPOL-EN16931-R053: expected one TaxTotal, got ${taxTotals.length}`);
  const tax = cents(val(taxTotals[0], 'TaxAmount'), 'BR-CO-14', errors);
  if (taxIncl !== taxExcl + tax) errors.push(`BR-CO-15: TaxInclusiveAmount ${taxIncl} ≠ TaxExclusiveAmount + VAT ${taxExcl + tax}`);
  if (payable !== taxIncl - prepaid + rounding) errors.push('BR-CO-16: PayableAmount ≠ TaxInclusiveAmount − prepaid + rounding');
  if (payable > 0n && val(root, 'DueDate') === undefined && val(root, 'PaymentTerms', 'Note') === undefined) errors.push('BR-CO-25: an amount is due but neither a due date nor payment terms are given');

  // VAT breakdown = the lines per category and rate; VAT = half-up of base × rate.
  const subtotals = kids(taxTotals[0], 'TaxSubtotal');
  let subtotalTax = 0n;
  const seen = new Set<string>();
  for (const s of subtotals) {
    const cat = val(s, 'TaxCategory', 'ID') ?? '?';
    const pct = val(s, 'TaxCategory', 'Percent');
    const key = rateKey(cat, pct);
    if (seen.has(key)) errors.push(`BR-CO-17: two VAT breakdowns for ${key}`);
    seen.add(key);
    const base = cents(val(s, 'TaxableAmount'), `BR-45 ${key}`, errors);
    const amount = cents(val(s, 'TaxAmount'), `BR-46 ${key}`, errors);
    subtotalTax += amount;
    if (base !== (byCategory.get(key) ?? 0n)) errors.push(`BR-${cat}-08: taxable amount of ${key} ${base} ≠ sum of its lines ${byCategory.get(key) ?? 0n}`);
    if (cat !== 'O' && pct === undefined) errors.push(`BR-48: VAT breakdown ${cat} without a rate`);
    const rate = decimal(pct ?? '0');
    if (rate) {
      const expected = roundDiv(base * rate.n, 100n * 10n ** BigInt(rate.scale));
      if (amount !== expected) errors.push(`BR-CO-17/BR-${cat}-09: VAT of ${key} ${amount} ≠ half-up of ${base} × ${pct} % = ${expected}`);
    }
    if (cat === 'S' && (rate === null || rate.n === 0n)) errors.push('BR-S-05: category S with a 0 rate');
    if (cat === 'S' && sellerVat === undefined) errors.push('BR-S-02: category S without seller VAT identifier');
    if ((cat === 'E' || cat === 'O') && amount !== 0n) errors.push(`BR-${cat}-09: VAT amount of ${cat} must be 0`);
    if ((cat === 'E' || cat === 'O') && val(s, 'TaxCategory', 'TaxExemptionReason') === undefined && val(s, 'TaxCategory', 'TaxExemptionReasonCode') === undefined) {
      errors.push(`BR-${cat}-10: exemption reason missing`);
    }
    if (cat === 'E' && sellerVat === undefined) errors.push('BR-E-02: category E without seller VAT identifier');
    if (cat === 'O') {
      if (subtotals.length > 1) errors.push('BR-O-11: a category O breakdown beside other categories');
      if ([...lineCategories].some((c) => c !== 'O')) errors.push('BR-O-12: a category O breakdown with lines of another category');
    }
  }
  // BR-O-02: a line of category O excludes the seller's and the buyer's VAT identifiers.
  if (lineCategories.has('O') && (sellerVat !== undefined || buyerVat !== undefined)) errors.push('BR-O-02: category O with a seller or buyer VAT identifier');
  for (const key of byCategory.keys()) if (!seen.has(key)) errors.push(`BR-CO-18 / BR-${key.slice(0, key.indexOf(':'))}-01: no VAT breakdown for lines of ${key}`);
  if (subtotalTax !== tax) errors.push(`BR-CO-14: TaxAmount ${tax} ≠ sum of the breakdown ${subtotalTax}`);
  for (const amountNode of collect(root, (n) => local(n.name).endsWith('Amount') && local(n.name) !== 'BaseAmount')) {
    if (amountNode.attrs.currencyID !== 'EUR') errors.push(`BR-CL-03 / PEPPOL-EN16931-R051: ${local(amountNode.name)} without currencyID EUR`);
  }
  return { ok: errors.length === 0, errors };
}

function collect(n: XmlNode, pred: (n: XmlNode) => boolean, out: XmlNode[] = []): XmlNode[] {
  if (pred(n)) out.push(n);
  for (const c of n.children) collect(c, pred, out);
  return out;
}
