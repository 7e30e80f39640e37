/**
 * ISO 20022 CAMT.053 (BankToCustomerStatement, versions 02 to 08) — pure parser:
 * Document/BkToCstmrStmt/Stmt/Ntry[/NtryDtls/TxDtls]. Per entry: Amt (EUR), CdtDbtInd,
 * BookgDt and ValDt (Dt or DtTm), AcctSvcrRef; per transaction: Refs (AcctSvcrRef,
 * EndToEndId), its amount (AmtDtls/TxAmt/Amt or Amt; optional when the entry holds one
 * transaction), RmtInf (Strd/CdtrRefInf/Ref, Ustrd), RltdPties (Dbtr name, DbtrAcct IBAN;
 * Cdtr for a debit). Entries whose status is not BOOK (pending, information) are skipped. A batch entry with several TxDtls gives one entry per transaction;
 * their amounts must add up to the entry's. Amounts are read as decimal strings → cents.
 */
import { isLocalDate, localDate, parseInstant, type LocalDate } from '../../../kernel/time.ts';
import { BankFileError, decimalToCents, normaliseIban, type BankEntry, type BankStatement } from './types.ts';
import { childrenNamed, find, parseXml, textAt, XmlError, type XmlElement } from './xml.ts';

class At {
  constructor(
    readonly el: XmlElement,
    readonly path: string,
  ) {}
  child(name: string, index?: number): At | null {
    const list = childrenNamed(this.el, name);
    const i = index ?? 0;
    const c = list[i];
    return c ? new At(c, `${this.path}/${name}${index !== undefined ? `[${i + 1}]` : ''}`) : null;
  }
  all(name: string): At[] {
    return childrenNamed(this.el, name).map((c, i) => new At(c, `${this.path}/${name}[${i + 1}]`));
  }
}

const refuse = (at: At, message: string, missing?: string): never => {
  throw new BankFileError('camt053', message, { line: at.el.line, path: missing ? `${at.path}/${missing}` : at.path });
};

function required(at: At, name: string): At {
  return at.child(name) ?? refuse(at, `missing element ${name}`, name);
}

function amountOf(at: At, name = 'Amt'): number {
  const a = required(at, name);
  const ccy = a.el.attributes.Ccy;
  if (ccy !== 'EUR') refuse(a, `currency ${ccy === undefined ? '(none)' : JSON.stringify(ccy)}: only EUR accounts are imported`);
  const cents = decimalToCents(a.el.text.trim());
  if (cents === null || cents <= 0) refuse(a, `amount ${JSON.stringify(a.el.text.trim())} is not a positive decimal with at most 2 decimals`);
  return cents!;
}

function dateOf(at: At, name: string): LocalDate {
  const d = required(at, name);
  const dt = textAt(d.el, 'Dt');
  if (dt !== null) {
    if (!isLocalDate(dt)) refuse(d.child('Dt')!, `invalid date ${JSON.stringify(dt)}`);
    return dt;
  }
  const dtm = textAt(d.el, 'DtTm');
  if (dtm !== null) {
    try {
      return /[zZ]|[+-]\d{2}:\d{2}$/.test(dtm) ? localDate(parseInstant(dtm)) : dtm.slice(0, 10);
    } catch {
      refuse(d.child('DtTm')!, `invalid date-time ${JSON.stringify(dtm)}`);
    }
  }
  return refuse(d, 'missing element Dt or DtTm', 'Dt');
}

const nonEmpty = (s: string | null): s is string => s !== null && s !== '' && s !== 'NOTPROVIDED';

export function parseCamt053(text: string): BankStatement | BankFileError {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof BankFileError) return e;
    if (e instanceof XmlError) return new BankFileError('camt053', `not well-formed XML: ${e.message}`, { line: e.line, column: e.column });
    throw e;
  }
}

function parse(text: string): BankStatement {
  const root = new At(parseXml(text), '');
  if (root.el.name !== 'Document') refuse(new At(root.el, root.el.name), `the root element is ${root.el.name}, expected Document`);
  const doc = new At(root.el, 'Document');
  const ns = Object.entries(doc.el.attributes).find(([k]) => k === 'xmlns' || k.startsWith('xmlns:'))?.[1] ?? '';
  if (ns !== '' && !/^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}$/.test(ns)) refuse(doc, `namespace ${ns} is not a CAMT.053 statement`);
  const msg = required(doc, 'BkToCstmrStmt');
  const stmts = msg.all('Stmt');
  if (stmts.length !== 1) refuse(msg, stmts.length === 0 ? 'missing element Stmt' : `${stmts.length} statements in one file: import them one file each`, 'Stmt');
  const stmt = stmts[0]!;
  const stmtId = textAt(stmt.el, 'Id') ?? refuse(stmt, 'missing element Id', 'Id');
  const acct = required(stmt, 'Acct');
  const ibanText = textAt(acct.el, 'Id/IBAN');
  const account = ibanText === null ? (textAt(acct.el, 'Id/Othr/Id') ?? refuse(acct, 'missing element Id/IBAN', 'Id/IBAN')) : (normaliseIban(ibanText) ?? refuse(new At(find(acct.el, 'Id/IBAN')!, `${acct.path}/Id/IBAN`), `invalid IBAN ${JSON.stringify(ibanText)}`));
  const created = textAt(stmt.el, 'CreDtTm') ?? textAt(msg.el, 'GrpHdr/CreDtTm');
  let date: LocalDate | null = null;
  if (created !== null) {
    try {
      date = /[zZ]|[+-]\d{2}:\d{2}$/.test(created) ? localDate(parseInstant(created)) : created.slice(0, 10);
    } catch {
      date = null;
    }
    if (date === null || !isLocalDate(date)) refuse(stmt, `invalid creation date-time ${JSON.stringify(created)}`, 'CreDtTm');
  }

  const entries: BankEntry[] = [];
  const seen = new Set<string>();
  stmt.all('Ntry').forEach((ntry, ni) => {
    // Only booked entries are movements (Sts `BOOK`, v2–v7 text or v8 `Sts/Cd`); pending or information entries come booked later.
    const status = textAt(ntry.el, 'Sts/Cd') ?? textAt(ntry.el, 'Sts');
    if (status !== null && status !== 'BOOK') return;
    const amount = amountOf(ntry);
    const ind = textAt(ntry.el, 'CdtDbtInd');
    if (ind !== 'CRDT' && ind !== 'DBIT') refuse(ntry, `CdtDbtInd ${JSON.stringify(ind)} must be CRDT or DBIT`, 'CdtDbtInd');
    const bookingDate = dateOf(ntry, 'BookgDt');
    const valueDate = ntry.child('ValDt') ? dateOf(ntry, 'ValDt') : bookingDate;
    const entryRef = textAt(ntry.el, 'AcctSvcrRef') ?? textAt(ntry.el, 'NtryRef');
    const txs = ntry.all('NtryDtls').flatMap((d) => d.all('TxDtls'));
    const parts = txs.length === 0 ? [null] : txs;
    let sum = 0;
    parts.forEach((tx, ti) => {
      const txAmount = tx === null ? amount : tx.child('AmtDtls') && find(tx.el, 'AmtDtls/TxAmt/Amt') ? amountOf(new At(find(tx.el, 'AmtDtls/TxAmt')!, `${tx.path}/AmtDtls/TxAmt`)) : tx.child('Amt') ? amountOf(tx) : parts.length === 1 ? amount : refuse(tx, 'missing element Amt (a batch entry needs an amount per transaction)', 'Amt');
      sum += txAmount;
      const el = tx?.el;
      const txRef = el ? textAt(el, 'Refs/AcctSvcrRef') : null;
      const e2e = el ? textAt(el, 'Refs/EndToEndId') : null;
      const strd = el ? (find(el, 'RmtInf') ? childrenNamed(find(el, 'RmtInf')!, 'Strd').map((s) => textAt(s, 'CdtrRefInf/Ref')).find((r) => r !== null) ?? null : null) : null;
      const ustrd = el && find(el, 'RmtInf') ? childrenNamed(find(el, 'RmtInf')!, 'Ustrd').map((u) => u.text.trim()).filter((u) => u !== '').join(' ') : '';
      const party = ind === 'CRDT' ? 'Dbtr' : 'Cdtr';
      const name = el ? (textAt(el, `RltdPties/${party}/Nm`) ?? textAt(el, `RltdPties/${party}/Pty/Nm`)) : null;
      const ibanRaw = el ? textAt(el, `RltdPties/${party}Acct/Id/IBAN`) : null;
      let entryId = nonEmpty(txRef) ? txRef : nonEmpty(entryRef) ? (parts.length > 1 ? `${entryRef}/${ti + 1}` : entryRef) : nonEmpty(e2e) ? e2e : `${stmtId}/${ni + 1}/${ti + 1}`;
      if (seen.has(entryId)) entryId = `${entryId}#${ni + 1}.${ti + 1}`;
      seen.add(entryId);
      entries.push({
        entryId,
        direction: ind === 'CRDT' ? 'credit' : 'debit',
        amountCents: txAmount,
        bookingDate,
        valueDate,
        structuredReference: strd,
        freeText: ustrd === '' ? null : ustrd,
        payerIban: normaliseIban(ibanRaw),
        payerName: name,
        bankReference: nonEmpty(txRef) ? txRef : entryRef,
        endToEndId: nonEmpty(e2e) ? e2e : null,
      });
    });
    if (sum !== amount) refuse(ntry, `the transactions add up to ${sum} cents, the entry says ${amount}`, 'Amt');
  });
  return { format: 'camt053', statementId: `camt053:${account}:${stmtId}`, account, date: date ?? entries[0]?.bookingDate ?? '1970-01-01', entries };
}
