/** Belgian enterprise number (§1, Client; refusal code INVALID_ENTERPRISE_NUMBER). */

export interface EnterpriseNumber {
  /** The 10 digits, e.g. `0455218921`. */
  digits: string;
  /** `BE0455.218.921`. */
  formatted: string;
}

/** §1: the two check digits of the first eight, 97 − (n mod 97). */
export function enterpriseCheckDigits(firstEight: string): string {
  if (!/^\d{8}$/.test(firstEight)) throw new RangeError(`expected 8 digits, got ${JSON.stringify(firstEight)}`);
  return String(97 - (Number(firstEight) % 97)).padStart(2, '0');
}

/**
 * Accepts `BE0455.218.921`, `0455218921`, `BE 0455 218 921`, `455218921` (9 digits get
 * a leading 0); null unless it starts with 0 or 1 and its check digits are right (§1).
 */
export function parseEnterpriseNumber(input: string): EnterpriseNumber | null {
  const compact = input.replace(/[\s.]/g, '').replace(/^BE/i, '');
  if (!/^\d{9,10}$/.test(compact)) return null;
  const digits = compact.padStart(10, '0');
  if (!/^[01]/.test(digits) || enterpriseCheckDigits(digits.slice(0, 8)) !== digits.slice(8)) return null;
  return { digits, formatted: `BE${digits.slice(0, 4)}.${digits.slice(4, 7)}.${digits.slice(7)}` };
}
