import { isE164 } from '../../kernel/e164.ts';
import { validationError } from '../../kernel/errors.ts';
import type { NumberType } from './schema.ts';

/** Largest range accepted in one import line. */
export const MAX_RANGE = 100_000;

export interface NumberRange {
  from: string;
  to: string;
  type: NumberType;
}
export interface SingleNumber {
  number: string;
  type: NumberType;
}

/** §3 inventory: E.164; `national` numbers are Belgian (+32), `international` ones are not. */
export function assertInventoryNumber(number: string, type: NumberType, field: string): void {
  if (!isE164(number)) throw validationError(field, `${JSON.stringify(number)} is not an E.164 number (+ then 8 to 15 digits)`);
  const belgian = number.startsWith('+32');
  if (type === 'national' && !belgian) throw validationError(field, `${number} is not Belgian (+32): not a national number`);
  if (type === 'international' && belgian) throw validationError(field, `${number} is Belgian (+32): not an international number`);
}

/** Every number of an inclusive range of same-length E.164 numbers. */
export function expandRange(range: NumberRange, field: string): string[] {
  assertInventoryNumber(range.from, range.type, `${field}/from`);
  assertInventoryNumber(range.to, range.type, `${field}/to`);
  if (range.from.length !== range.to.length) throw validationError(`${field}/to`, 'from and to must have the same number of digits');
  const from = BigInt(range.from.slice(1));
  const to = BigInt(range.to.slice(1));
  if (to < from) throw validationError(`${field}/to`, 'to must not be below from');
  if (to - from >= BigInt(MAX_RANGE)) throw validationError(`${field}/to`, `a range holds at most ${MAX_RANGE} numbers`);
  const width = range.from.length - 1;
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(`+${n.toString().padStart(width, '0')}`);
  return out;
}
