/**
 * A checker of the Peppol BIS Billing 3.0 / EN 16931 rules that matter for our documents,
 * run on the generated XML (tests, and `easy2phone invoice show --ubl`): mandatory
 * elements, the BR-CO sums, the VAT breakdown per category against the lines, rounding,
 * the category rules for S, E and O. Not the full Peppol schematron; the XSD check is
 * separate (xmllint with the OASIS schemas, test/billing/ubl-xsd.test.ts). Exact decimal
 * arithmetic in bigint cents.
 */

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

export interface UblCheck {
  ok: boolean;
  errors: string[];
}

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
  if (!isCredit && root.name !== 'Invoice') errors.push(`root element ${root.name}: expected Invoice or CreditNote`);
  const expectedNs = `urn:oasis:names:specification:ubl:schema:xsd:${isCredit ? 'CreditNote' : 'Invoice'}-2`;
  if (root.attrs.xmlns !== expectedNs) errors.push(`namespace ${root.attrs.xmlns}: expected ${expectedNs}`);
  const need = (path: string[], rule: string): string | undefined => {
    const v = val(root, ...path);
    if (v === undefined) errors.push(`${rule}: ${path.join('/')} missing`);
    return v;
  };
  if (need(['CustomizationID'], 'BR-01') !== 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0') errors.push('BR-01: wrong CustomizationID');
  if (need(['ProfileID'], 'PEPPOL-EN16931-R001') !== 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0') errors.push('PEPPOL-EN16931-R001: wrong ProfileID');
  need(['ID'], 'BR-02');
  const issue = need(['IssueDate'], 'BR-03');
  if (issue !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(issue)) errors.push('BR-03: IssueDate is not YYYY-MM-DD');
  const typeCode = need([isCredit ? 'CreditNoteTypeCode' : 'InvoiceTypeCode'], 'BR-04');
  if (typeCode !== undefined && typeCode !== (isCredit ? '381' : '380')) errors.push(`BR-04: type code ${typeCode}`);
  if (need(['DocumentCurrencyCode'], 'BR-05') !== 'EUR') errors.push('BR-05: currency is not EUR');
  if (val(root, 'BuyerReference') === undefined && val(root, 'OrderReference', 'ID') === undefined) errors.push('PEPPOL-EN16931-R003: BuyerReference (or OrderReference) missing');

  for (const [role, path] of [
    ['seller', 'AccountingSupplierParty'],
    ['buyer', 'AccountingCustomerParty'],
  ] as const) {
    const p = kid(root, path, 'Party');
    if (!p) {
      errors.push(`${role}: ${path}/Party missing`);
      continue;
    }
    const endpoint = kid(p, 'EndpointID');
    if (!endpoint) errors.push(`PEPPOL-EN16931-R020/R010: ${role} EndpointID missing`);
    else {
      if (endpoint.attrs.schemeID !== '0208') errors.push(`${role} EndpointID schemeID ${endpoint.attrs.schemeID}: expected 0208`);
      if (!/^[01]\d{9}$/.test(endpoint.text.trim())) errors.push(`${role} EndpointID ${endpoint.text}: not a Belgian enterprise number`);
    }
    if (val(p, 'PartyLegalEntity', 'RegistrationName') === undefined) errors.push(`${role === 'seller' ? 'BR-06' : 'BR-07'}: ${role} RegistrationName missing`);
    if (val(p, 'PostalAddress', 'Country', 'IdentificationCode') === undefined) errors.push(`${role === 'seller' ? 'BR-09' : 'BR-11'}: ${role} country code missing`);
    for (const t of kids(p, 'PartyTaxScheme')) {
      const id = val(t, 'CompanyID');
      if (id !== undefined && !/^BE[01]\d{9}$/.test(id)) errors.push(`${role} VAT identifier ${id}: expected BE + 10 digits`);
      if (val(t, 'TaxScheme', 'ID') !== 'VAT') errors.push(`${role} PartyTaxScheme without TaxScheme VAT`);
    }
  }
  const seller = kid(root, 'AccountingSupplierParty', 'Party');
  const buyer = kid(root, 'AccountingCustomerParty', 'Party');
  const sellerVat = val(seller, 'PartyTaxScheme', 'CompanyID');
  const buyerVat = val(buyer, 'PartyTaxScheme', 'CompanyID');
  if (sellerVat === undefined && val(seller, 'PartyLegalEntity', 'CompanyID') === undefined) errors.push('BR-CO-26: seller VAT identifier or legal registration missing');

  const pm = kid(root, 'PaymentMeans');
  if (!pm) errors.push('BR-49: PaymentMeans missing');
  else {
    const code = val(pm, 'PaymentMeansCode');
    if (code !== '30' && code !== '58') errors.push(`BR-49: PaymentMeansCode ${code}: expected 30 or 58`);
    const ref = val(pm, 'PaymentID');
    if (ref === undefined || !/^\+\+\+\d{3}\/\d{4}\/\d{5}\+\+\+$/.test(ref)) errors.push(`BT-83: PaymentID ${ref}: expected a structured communication`);
    const iban = val(pm, 'PayeeFinancialAccount', 'ID');
    if (iban === undefined || !/^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$/.test(iban)) errors.push(`BR-50: payee IBAN ${iban} missing or malformed`);
  }

  // Lines.
  const lines = kids(root, isCredit ? 'CreditNoteLine' : 'InvoiceLine');
  if (lines.length === 0) errors.push('BR-16: no line');
  const byCategory = new Map<string, bigint>();
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
    const pct = val(l, 'Item', 'ClassifiedTaxCategory', 'Percent');
    if (cat === 'O' && pct !== undefined) errors.push(`BR-O-05: ${where} category O with a rate`);
    const key = `${cat ?? '?'}:${cat === 'O' ? '0' : (pct ?? '?')}`;
    byCategory.set(key, (byCategory.get(key) ?? 0n) + amount);
    // PEPPOL-EN16931-R120: line amount = quantity × price / base quantity, exactly to the cent; BR-27 price ≥ 0.
    const qty = decimal(val(l, isCredit ? 'CreditedQuantity' : 'InvoicedQuantity'));
    const price = decimal(val(l, 'Price', 'PriceAmount'));
    const base = decimal(val(l, 'Price', 'BaseQuantity') ?? '1');
    if (!qty || !price || !base || base.n === 0n) errors.push(`BR-22/BR-26: ${where} quantity or price missing`);
    else {
      if (price.n < 0n) errors.push(`BR-27: ${where} negative price`);
      const num = qty.n * price.n * 100n * 10n ** BigInt(base.scale);
      const den = base.n * 10n ** BigInt(qty.scale + price.scale);
      if (roundDiv(num, den) !== amount) errors.push(`PEPPOL-EN16931-R120: ${where} quantity × price / base ≠ line amount`);
    }
  }

  // Totals (BR-CO-10, 13, 15, 16).
  const t = kid(root, 'LegalMonetaryTotal');
  const lineExt = cents(val(t, 'LineExtensionAmount'), 'BR-12', errors);
  const taxExcl = cents(val(t, 'TaxExclusiveAmount'), 'BR-13', errors);
  const taxIncl = cents(val(t, 'TaxInclusiveAmount'), 'BR-14', errors);
  const payable = cents(val(t, 'PayableAmount'), 'BR-15', errors);
  const allowances = val(t, 'AllowanceTotalAmount') ? cents(val(t, 'AllowanceTotalAmount'), 'BT-107', errors) : 0n;
  const charges = val(t, 'ChargeTotalAmount') ? cents(val(t, 'ChargeTotalAmount'), 'BT-108', errors) : 0n;
  const prepaid = val(t, 'PrepaidAmount') ? cents(val(t, 'PrepaidAmount'), 'BT-113', errors) : 0n;
  const rounding = val(t, 'PayableRoundingAmount') ? cents(val(t, 'PayableRoundingAmount'), 'BT-114', errors) : 0n;
  if (lineExt !== lineSum) errors.push(`BR-CO-10: LineExtensionAmount ${lineExt} ≠ sum of lines ${lineSum}`);
  if (taxExcl !== lineExt - allowances + charges) errors.push('BR-CO-13: TaxExclusiveAmount ≠ lines − allowances + charges');
  const taxTotals = kids(root, 'TaxTotal');
  if (taxTotals.length !== 1) errors.push(`BR-CO-18: expected one TaxTotal, got ${taxTotals.length}`);
  const tax = cents(val(taxTotals[0], 'TaxAmount'), 'BR-CO-14', errors);
  if (taxIncl !== taxExcl + tax) errors.push(`BR-CO-15: TaxInclusiveAmount ${taxIncl} ≠ TaxExclusiveAmount + VAT ${taxExcl + tax}`);
  if (payable !== taxIncl - prepaid + rounding) errors.push('BR-CO-16: PayableAmount ≠ TaxInclusiveAmount − prepaid + rounding');

  // VAT breakdown = the lines per category and rate; VAT = half-up of base × rate.
  const subtotals = kids(taxTotals[0], 'TaxSubtotal');
  let subtotalTax = 0n;
  const seen = new Set<string>();
  for (const s of subtotals) {
    const cat = val(s, 'TaxCategory', 'ID') ?? '?';
    const pct = val(s, 'TaxCategory', 'Percent');
    const key = `${cat}:${cat === 'O' ? '0' : (pct ?? '?')}`;
    if (seen.has(key)) errors.push(`BR-CO-17: two VAT breakdowns for ${key}`);
    seen.add(key);
    const base = cents(val(s, 'TaxableAmount'), `BR-45 ${key}`, errors);
    const amount = cents(val(s, 'TaxAmount'), `BR-46 ${key}`, errors);
    subtotalTax += amount;
    if (base !== (byCategory.get(key) ?? 0n)) errors.push(`BR-${cat}-08: taxable amount of ${key} ${base} ≠ sum of its lines ${byCategory.get(key) ?? 0n}`);
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
      if (sellerVat !== undefined || buyerVat !== undefined) errors.push('BR-O-02/03: category O with a seller or buyer VAT identifier');
    }
  }
  for (const key of byCategory.keys()) if (!seen.has(key)) errors.push(`BR-CO-18: no VAT breakdown for lines of ${key}`);
  if (subtotalTax !== tax) errors.push(`BR-CO-14: TaxAmount ${tax} ≠ sum of the breakdown ${subtotalTax}`);
  for (const amountNode of collect(root, (n) => local(n.name).endsWith('Amount') && local(n.name) !== 'BaseAmount')) {
    if (amountNode.attrs.currencyID !== 'EUR') errors.push(`BR-CL-03: ${local(amountNode.name)} without currencyID EUR`);
  }
  return { ok: errors.length === 0, errors };
}

function collect(n: XmlNode, pred: (n: XmlNode) => boolean, out: XmlNode[] = []): XmlNode[] {
  if (pred(n)) out.push(n);
  for (const c of n.children) collect(c, pred, out);
  return out;
}
