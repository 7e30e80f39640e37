/**
 * Belgian CODA 2.x (Febelfin "Coded statement of account") — pure parser. A file is lines
 * of exactly 128 characters (positions below are 1-based, as in the standard):
 *
 * - 0 header: 2-5 `0000`, 6-11 creation date DDMMYY, 15-16 application code `05`,
 *   128 version `2`.
 * - 1 old balance: 2 account structure (0 Belgian number, 1 foreign, 2 Belgian IBAN,
 *   3 foreign IBAN), 3-5 paper statement number, 6-42 account and currency (IBAN from 6,
 *   currency at 40-42; structure 0: 6-17 number, 19-21 currency), 43 sign (0 credit,
 *   1 debit), 44-58 balance (12 + 3 decimals), 59-64 date, 65-90 holder, 126-128 CODA
 *   sequence.
 * - 2.1 movement: 3-6 sequence, 7-10 detail, 11-31 bank reference, 32 sign, 33-47 amount,
 *   48-53 value date, 54-61 transaction code, 62 communication type (1 structured),
 *   63-115 communication (structured: 63-65 type `101`/`102`, 66-77 the 12-digit OGM),
 *   116-121 entry date, 122-124 paper statement number, 125 globalisation code,
 *   126 next code, 128 link code.
 * - 2.2: 11-63 communication (continued), 64-98 client reference, 99-109 counterparty BIC.
 * - 2.3: 11-44 counterparty account (IBAN), 45-47 currency, 48-82 counterparty name,
 *   83-125 communication (continued).
 * - 3.1/3.2/3.3 information, 4 free message: read, counted, not used.
 * - 8 new balance: 2-4 paper statement number, 5-41 account, 42 sign, 43-57 balance,
 *   58-63 date.
 * - 9 trailer: 17-22 number of records 1, 2.x, 3.x and 8 (not 0, 4, 9), 23-37 sum of debit
 *   movements, 38-52 sum of credit movements (records 2.1 with detail number 0000).
 *
 * Checked: every record's length and numeric fields, record order, 2.2/2.3 continuing
 * their 2.1, the trailer's count and sums, old balance ± movements = new balance, EUR.
 * A globalised movement (code > 0) followed by its details (detail number > 0) gives one
 * entry per detail. Amounts: 3 decimals whose last must be 0 (cents), read as digits.
 */
import { BankFileError, normaliseIban, type BankEntry, type BankStatement } from './types.ts';

interface Line {
  no: number;
  text: string;
}

const fail = (line: number, column: number | null, message: string): never => {
  throw new BankFileError('coda', message, { line, column });
};

/** Positions `from`..`to`, 1-based inclusive. */
const field = (l: Line, from: number, to: number): string => l.text.slice(from - 1, to);

function digits(l: Line, from: number, to: number, what: string): string {
  const v = field(l, from, to);
  if (!/^\d+$/.test(v)) fail(l.no, from, `${what} (positions ${from}-${to}) must be digits, got ${JSON.stringify(v)}`);
  return v;
}

/** DDMMYY → YYYY-MM-DD (20YY); null for 000000 when `optional`. */
function dateField(l: Line, from: number, what: string, optional = false): string | null {
  const v = digits(l, from, from + 5, what);
  if (optional && v === '000000') return null;
  const [dd, mm, yy] = [v.slice(0, 2), v.slice(2, 4), v.slice(4, 6)];
  const iso = `20${yy}-${mm}-${dd}`;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) fail(l.no, from, `${what} ${v} is not a date DDMMYY`);
  return iso;
}

/** 15 digits, 3 decimals → cents; the thousandths digit must be 0. */
function amountField(l: Line, from: number, what: string): number {
  const v = digits(l, from, from + 14, what);
  if (v[14] !== '0') fail(l.no, from + 14, `${what} ${v} has a fraction of a cent`);
  const cents = BigInt(v.slice(0, 14));
  if (cents > BigInt(Number.MAX_SAFE_INTEGER)) fail(l.no, from, `${what} is too large`);
  return Number(cents);
}

function signField(l: Line, pos: number, what: string): 1 | -1 {
  const v = field(l, pos, pos);
  if (v !== '0' && v !== '1') fail(l.no, pos, `${what} sign must be 0 (credit) or 1 (debit), got ${JSON.stringify(v)}`);
  return v === '0' ? 1 : -1;
}

function accountOf(l: Line, structure: string, from: number): { account: string; currency: string } {
  const raw = field(l, from, from + 36);
  if (structure === '0') return { account: raw.slice(0, 12).trim(), currency: raw.slice(13, 16).trim() };
  const number = raw.slice(0, 34).trim();
  const currency = raw.slice(34, 37).trim();
  if (structure === '2' || structure === '3') {
    const iban = normaliseIban(number);
    if (iban === null) fail(l.no, from, `invalid IBAN ${JSON.stringify(number)}`);
    return { account: iban!, currency };
  }
  return { account: number, currency };
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

interface Movement {
  line: Line;
  seq: string;
  detail: string;
  sign: 1 | -1;
  amountCents: number;
  bankReference: string;
  valueDate: string | null;
  entryDate: string;
  globalisation: number;
  structured: string | null;
  text: string;
  payerIban: string | null;
  payerName: string | null;
}

export function parseCoda(text: string): BankStatement | BankFileError {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof BankFileError) return e;
    throw e;
  }
}

function parse(text: string): BankStatement {
  const raw = text.split(/\r?\n/);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  if (raw.length === 0) fail(1, null, 'empty file');
  const lines: Line[] = raw.map((t, i) => ({ no: i + 1, text: t }));
  for (const l of lines) {
    if (l.text.length !== 128) fail(l.no, Math.min(l.text.length, 128) + 1, `a record is 128 characters, this one has ${l.text.length}`);
  }

  const header = lines[0]!;
  if (field(header, 1, 1) !== '0') fail(1, 1, 'the first record must be the header (record 0)');
  if (field(header, 2, 5) !== '0000') fail(1, 2, 'header positions 2-5 must be 0000');
  const created = dateField(header, 6, 'creation date')!;
  if (field(header, 15, 16) !== '05') fail(1, 15, `application code must be 05, got ${JSON.stringify(field(header, 15, 16))}`);
  if (field(header, 128, 128) !== '2') fail(1, 128, `version code must be 2 (CODA 2.x), got ${JSON.stringify(field(header, 128, 128))}`);

  const old = lines[1] ?? fail(1, null, 'missing the old balance record (record 1)');
  if (field(old, 1, 1) !== '1') fail(old.no, 1, 'the second record must be the old balance (record 1)');
  const structure = field(old, 2, 2);
  if (!/^[0-3]$/.test(structure)) fail(old.no, 2, `account structure must be 0-3, got ${JSON.stringify(structure)}`);
  const paperSeq = digits(old, 3, 5, 'statement number');
  const { account, currency } = accountOf(old, structure, 6);
  if (currency !== 'EUR') fail(old.no, structure === '0' ? 19 : 40, `currency ${JSON.stringify(currency)}: only EUR accounts are imported`);
  const oldBalance = signField(old, 43, 'old balance') * amountField(old, 44, 'old balance');
  dateField(old, 59, 'old balance date');

  const movements: Movement[] = [];
  let counted = 1; // record 1
  let current: Movement | null = null;
  let expect: string | null = null; // the record that must come next ('22' / '23'), per the next code
  let newBalance: { line: Line; cents: number; date: string } | null = null;
  let trailer: Line | null = null;

  for (const l of lines.slice(2)) {
    const id = field(l, 1, 1);
    const kind = id === '2' || id === '3' ? field(l, 1, 2) : id;
    if (trailer !== null) fail(l.no, 1, 'a record after the trailer (record 9): one statement per file');
    if (expect !== null && kind !== expect) fail(l.no, 1, `record ${expect.split('').join('.')} expected (next code of line ${l.no - 1}), got ${kind}`);
    expect = null;
    if (newBalance !== null && id !== '9' && id !== '4') fail(l.no, 1, `record ${kind} after the new balance (record 8)`);
    switch (kind) {
      case '21': {
        counted++;
        const seq = digits(l, 3, 6, 'sequence number');
        const detail = digits(l, 7, 10, 'detail number');
        const commType = field(l, 62, 62);
        if (commType !== '0' && commType !== '1') fail(l.no, 62, `communication type must be 0 or 1, got ${JSON.stringify(commType)}`);
        let structured: string | null = null;
        let textPart = field(l, 63, 115);
        if (commType === '1') {
          const type = field(l, 63, 65);
          if (type === '101' || type === '102') {
            structured = digits(l, 66, 77, 'structured communication');
            textPart = '';
          }
        }
        const glob = field(l, 125, 125);
        if (!/^\d$/.test(glob)) fail(l.no, 125, 'globalisation code must be a digit');
        current = {
          line: l,
          seq,
          detail,
          sign: signField(l, 32, 'movement'),
          amountCents: amountField(l, 33, 'amount'),
          bankReference: field(l, 11, 31).trim(),
          valueDate: dateField(l, 48, 'value date', true),
          entryDate: dateField(l, 116, 'entry date')!,
          globalisation: Number(glob),
          structured,
          text: textPart,
          payerIban: null,
          payerName: null,
        };
        movements.push(current);
        if (field(l, 126, 126) === '1') expect = '22';
        break;
      }
      case '22':
      case '23': {
        counted++;
        if (current === null || field(l, 3, 6) !== current.seq || field(l, 7, 10) !== current.detail) {
          fail(l.no, 3, `record ${kind[0]}.${kind[1]} does not continue the movement before it (sequence/detail number)`);
        }
        if (kind === '22') {
          current!.text += field(l, 11, 63);
          if (field(l, 126, 126) === '1') expect = '23';
        } else {
          const iban = field(l, 11, 44).trim();
          current!.payerIban = normaliseIban(iban);
          const name = field(l, 48, 82).trim();
          current!.payerName = name === '' ? null : name;
          current!.text += field(l, 83, 125);
        }
        break;
      }
      case '31':
      case '32':
      case '33':
      case '4':
        if (kind !== '4') counted++;
        if (kind !== '4' && kind !== '33' && field(l, 126, 126) === '1') expect = kind === '31' ? '32' : '33';
        break;
      case '8': {
        counted++;
        const seq8 = digits(l, 2, 4, 'statement number');
        if (seq8 !== paperSeq) fail(l.no, 2, `statement number ${seq8} differs from the old balance's ${paperSeq}`);
        newBalance = { line: l, cents: signField(l, 42, 'new balance') * amountField(l, 43, 'new balance'), date: dateField(l, 58, 'new balance date')! };
        break;
      }
      case '9':
        trailer = l;
        break;
      default:
        fail(l.no, 1, `unknown record type ${JSON.stringify(kind)}`);
    }
  }
  if (expect !== null) fail(lines.length, 126, `record ${expect[0]}.${expect[1]} announced by the next code is missing`);
  if (newBalance === null) fail(lines.length, 1, 'missing the new balance (record 8)');
  if (trailer === null) fail(lines.length, 1, 'missing the trailer (record 9)');
  const t = trailer!;

  // Trailer: record count and the sums of the movements (records 2.1 with detail 0000).
  const count = Number(digits(t, 17, 22, 'number of records'));
  if (count !== counted) fail(t.no, 17, `the trailer counts ${count} records, the file has ${counted}`);
  const globals = movements.filter((m) => m.detail === '0000');
  const debit = globals.filter((m) => m.sign < 0).reduce((s, m) => s + m.amountCents, 0);
  const credit = globals.filter((m) => m.sign > 0).reduce((s, m) => s + m.amountCents, 0);
  const tDebit = amountField(t, 23, 'debit total');
  if (tDebit !== debit) fail(t.no, 23, `the trailer's debit total is ${tDebit} cents, the movements add up to ${debit}`);
  const tCredit = amountField(t, 38, 'credit total');
  if (tCredit !== credit) fail(t.no, 38, `the trailer's credit total is ${tCredit} cents, the movements add up to ${credit}`);
  if (oldBalance + credit - debit !== newBalance!.cents) {
    fail(newBalance!.line.no, 43, `old balance ${oldBalance} + credits ${credit} − debits ${debit} ≠ new balance ${newBalance!.cents} (cents)`);
  }

  // Entries: a movement, or the details of a globalised movement.
  const entries: BankEntry[] = [];
  const year = newBalance!.date.slice(0, 4);
  for (const m of globals) {
    const details = movements.filter((d) => d.seq === m.seq && d.detail !== '0000');
    const parts = m.globalisation > 0 && details.length > 0 ? details : [m];
    const sum = parts.reduce((s, d) => s + d.sign * d.amountCents, 0);
    if (parts === details && sum !== m.sign * m.amountCents) fail(m.line.no, 33, `the details add up to ${sum} cents, the globalised movement says ${m.sign * m.amountCents}`);
    for (const d of parts) {
      const free = squash(d.text);
      entries.push({
        entryId: `${year}/${paperSeq}/${d.seq}/${d.detail}`,
        direction: d.sign > 0 ? 'credit' : 'debit',
        amountCents: d.amountCents,
        bookingDate: d.entryDate,
        valueDate: d.valueDate ?? d.entryDate,
        structuredReference: d.structured,
        freeText: free === '' ? null : free,
        payerIban: d.payerIban,
        payerName: d.payerName,
        bankReference: d.bankReference === '' ? null : d.bankReference,
        endToEndId: null,
      });
    }
  }
  return { format: 'coda', statementId: `coda:${account}:${year}:${paperSeq}`, account, date: newBalance!.date, created, entries };
}
