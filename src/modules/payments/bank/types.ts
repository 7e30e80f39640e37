/**
 * Bank statements (RULES.md "Dunning and suspension": payments come from ISO 20022
 * CAMT.053 and Belgian CODA statements). The parsers are pure: text in, a statement or a
 * `BankFileError` naming where the file is at fault (line and column for CODA, line and
 * XML element path for CAMT.053). Amounts are integer cents, parsed from the text, never
 * through a float.
 */
import type { LocalDate } from '../../../kernel/time.ts';

export type BankFormat = 'camt053' | 'coda';

export interface BankEntry {
  /** Stable id of the movement within its account (idempotency of the import). */
  entryId: string;
  direction: 'credit' | 'debit';
  /** Positive integer cents. */
  amountCents: number;
  bookingDate: LocalDate;
  valueDate: LocalDate;
  /** A structured communication given as such (12 digits, or as written), else null. */
  structuredReference: string | null;
  /** Unstructured remittance text, else null. */
  freeText: string | null;
  payerIban: string | null;
  payerName: string | null;
  /** Bank reference (AcctSvcrRef / CODA bank reference), EndToEndId when given. */
  bankReference: string | null;
  endToEndId: string | null;
}

export interface BankStatement {
  format: BankFormat;
  /** Unique per account and statement: `camt053:<IBAN>:<Stmt/Id>`, `coda:<IBAN>:<year>:<sequence>`. */
  statementId: string;
  /** The statement's account (IBAN when given). */
  account: string;
  /** Statement date (CODA: the new balance date; CAMT.053: the statement's creation date). */
  date: LocalDate;
  /** CODA: the file's creation date (record 0); CAMT.053: the same as `date`. */
  created?: LocalDate;
  entries: BankEntry[];
}

/** A refused bank file: the whole file is refused, with the position of the fault. */
export class BankFileError extends Error {
  readonly format: BankFormat;
  readonly line: number | null;
  readonly column: number | null;
  /** CAMT.053: the element path at fault, e.g. `Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt`. */
  readonly path: string | null;

  constructor(format: BankFormat, message: string, where: { line?: number | null; column?: number | null; path?: string | null } = {}) {
    const at = [
      where.line != null ? `line ${where.line}` : null,
      where.column != null ? `column ${where.column}` : null,
      where.path != null ? where.path : null,
    ].filter((x) => x !== null);
    super(`${format === 'coda' ? 'CODA' : 'CAMT.053'}${at.length > 0 ? ` ${at.join(', ')}` : ''}: ${message}`);
    this.name = 'BankFileError';
    this.format = format;
    this.line = where.line ?? null;
    this.column = where.column ?? null;
    this.path = where.path ?? null;
  }

  /** Where, as one string (`line 4, column 33` or `line 12, Document/…/Amt`). */
  get position(): string {
    return [this.line != null ? `line ${this.line}` : null, this.column != null ? `column ${this.column}` : null, this.path].filter((x) => x !== null).join(', ');
  }
}

/** "60.50" / "60.5" / "60" → 6050; a decimal string with at most 2 decimals (cents), else null. */
export function decimalToCents(text: string): number | null {
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  const cents = BigInt(m[1]! + (m[2] ?? '').padEnd(2, '0'));
  return cents > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(cents);
}

/** An IBAN without spaces, upper case; null when it does not look like one (mod-97 check). */
export function normaliseIban(text: string | null | undefined): string | null {
  if (!text) return null;
  const iban = text.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$/.test(iban)) return null;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const v = ch >= 'A' && ch <= 'Z' ? ch.charCodeAt(0) - 55 : Number(ch);
    rest = Number(`${rest}${v}`) % 97;
  }
  return rest === 1 ? iban : null;
}
