/** Bank statement files: format detection and the two parsers (pure). */
import { parseCamt053 } from './camt053.ts';
import { parseCoda } from './coda.ts';
import { BankFileError, type BankFormat, type BankStatement } from './types.ts';

export { parseCamt053 } from './camt053.ts';
export { parseCoda } from './coda.ts';
export { BankFileError, decimalToCents, normaliseIban, type BankEntry, type BankFormat, type BankStatement } from './types.ts';

/** CAMT.053 when the text is XML, CODA when it starts with a header record. */
export function detectFormat(text: string): BankFormat | null {
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('<')) return 'camt053';
  if (/^0000/.test(t)) return 'coda';
  return null;
}

export function parseBankFile(text: string, format?: BankFormat): BankStatement | BankFileError {
  const f = format ?? detectFormat(text);
  if (f === null) return new BankFileError('coda', 'neither a CAMT.053 (XML) nor a CODA file (a header record 0 on line 1)', { line: 1, column: 1 });
  return f === 'camt053' ? parseCamt053(text) : parseCoda(text);
}
