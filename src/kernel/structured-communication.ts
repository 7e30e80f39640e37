/**
 * Belgian structured communication (OGM/VCS, RULES.md §8 "Invoice numbers"):
 * `+++ddd/dddd/ddddd+++`, 10 base digits then the check, base mod 97 (97 when 0).
 */

const checkDigits = (base: string): string => String(Number(base) % 97 || 97).padStart(2, '0');

/** `2027000001` → `+++202/7000/00122+++`. */
export function fromBase(base: string): string {
  if (!/^\d{10}$/.test(base)) throw new RangeError(`a structured communication base is 10 digits, got ${JSON.stringify(base)}`);
  const d = base + checkDigits(base);
  return `+++${d.slice(0, 3)}/${d.slice(3, 7)}/${d.slice(7)}+++`;
}

/** Invoice `2027-000001` → base `2027000001` → `+++202/7000/00122+++`. */
export function fromInvoiceNumber(invoiceNumber: string): string {
  const m = /^(\d{4})-(\d{6})$/.exec(invoiceNumber);
  if (!m) throw new RangeError(`invalid invoice number ${JSON.stringify(invoiceNumber)}: expected YYYY-NNNNNN`);
  return fromBase(m[1]! + m[2]!);
}

/**
 * The 12 digits of a structured communication, tolerant of the `+++`/`***` delimiters,
 * slashes and spaces (bank statements vary); null when it is not 12 digits with a right check.
 */
export function parse(input: string): string | null {
  const d = input.replace(/[\s/+*]/g, '');
  return /^\d{12}$/.test(d) && checkDigits(d.slice(0, 10)) === d.slice(10) ? d : null;
}

export const isValid = (input: string): boolean => parse(input) !== null;
