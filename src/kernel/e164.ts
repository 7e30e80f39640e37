/** Belgian dialling → E.164 (§3 number inventory, §8.3 zones, §8.7 emergency numbers). */

/** §8.7: Belgian emergency numbers (default of the configurable list). */
export const EMERGENCY_NUMBERS: readonly string[] = ['112', '100', '101'];

/** The dialling plan's extensions: 2 to 6 digits (provisioning enforces it; the router looks up only those). */
export const isExtensionSyntax = (s: string): boolean => /^\d{2,6}$/u.test(s);

export type DialResult =
  | { kind: 'e164'; number: string }
  | { kind: 'short'; number: string }
  | { kind: 'invalid'; reason: string };

export interface NormaliseOptions {
  /** Short numbers dialled as they are, in addition to the emergency numbers. */
  shortNumbers?: Iterable<string>;
}

const E164 = /^\+[1-9]\d{7,14}$/;

/** `+` then 8 to 15 digits, the first non-zero. */
export const isE164 = (s: string): boolean => E164.test(s);

/** §8.7: is `number` (as dialled, normalised) on the emergency list? */
export const isEmergency = (number: string, list: Iterable<string> = EMERGENCY_NUMBERS): boolean =>
  new Set(list).has(number);

/**
 * What a Belgian user dialled, as E.164 (`+32…`, `00…` → `+…`, national `0…`) or as a
 * known short number. Separators (spaces, `.`, `/`, `-`, parentheses), the trunk
 * prefix `(0)` (`+32 (0)2…`) and a national 0 after +32 (`+32 0475…`) are dropped.
 * Never throws: anything else is `invalid` with a reason.
 */
export function normaliseDialled(dialled: string, options: NormaliseOptions = {}): DialResult {
  const s = dialled.replace(/\(0\)/g, '').replace(/[\s./()-]/g, '');
  if (new Set([...EMERGENCY_NUMBERS, ...(options.shortNumbers ?? [])]).has(s)) return { kind: 'short', number: s };
  const international = /^0[1-9]\d{7,8}$/.test(s) ? `+32${s.slice(1)}` : s.startsWith('00') ? `+${s.slice(2)}` : s;
  const candidate = international.replace(/^\+320/, '+32'); // "+32 0475…": the national 0 kept by mistake
  if (isE164(candidate)) return { kind: 'e164', number: candidate };
  if (s === '') return { kind: 'invalid', reason: 'empty number' };
  if (!/^\+?\d+$/.test(s)) return { kind: 'invalid', reason: `unexpected characters in ${JSON.stringify(dialled)}` };
  return { kind: 'invalid', reason: `not a Belgian or international number: ${JSON.stringify(dialled)}` };
}

/**
 * §8.3: the entry whose prefix is the longest prefix of `number` (tariff zones); the
 * first one listed wins between equal prefixes. null when none matches.
 */
export function longestPrefixMatch<T>(
  number: string,
  prefixes: Iterable<readonly [string, T]>,
): { prefix: string; value: T } | null {
  let best: { prefix: string; value: T } | null = null;
  for (const [prefix, value] of prefixes) {
    if (number.startsWith(prefix) && (best === null || prefix.length > best.prefix.length)) best = { prefix, value };
  }
  return best;
}
