/**
 * Writers of bank statement files in the formats' real layouts, for the tests: CODA 2.x
 * (128-character records, Febelfin) and CAMT.053.001.02 (ISO 20022). Amounts are cents.
 */

export interface TestMovement {
  amountCents: number;
  credit: boolean;
  /** 12 digits of a structured communication (CODA 101 / CAMT Strd). */
  ogm?: string;
  freeText?: string;
  iban?: string;
  name?: string;
  date?: string; // YYYY-MM-DD
  ref?: string;
  /** CODA: a globalised movement (code 1) followed by these details (detail numbers 0001…). */
  details?: { amountCents: number; ogm?: string }[];
  /** CODA: information records 3.1/3.2/3.3 after the movement, and a free message (record 4). */
  info?: boolean;
}

export interface TestStatement {
  account: string; // IBAN
  sequence: number;
  date: string; // YYYY-MM-DD
  oldBalanceCents?: number;
  movements: TestMovement[];
}

const ddmmyy = (d: string): string => `${d.slice(8, 10)}${d.slice(5, 7)}${d.slice(2, 4)}`;
const pad = (s: string, n: number): string => (s.length > n ? s.slice(0, n) : s.padEnd(n, ' '));
const num = (v: number | bigint, n: number): string => String(v).padStart(n, '0');
const amount15 = (cents: number): string => num(BigInt(cents) * 10n, 15);
const rec = (s: string): string => {
  if (s.length !== 128) throw new Error(`test CODA record of ${s.length} characters: ${s}`);
  return s;
};

export function codaFile(st: TestStatement, opts: { trailerCount?: number; trailerCreditCents?: number } = {}): string {
  const seq = num(st.sequence, 3);
  const lines: string[] = [];
  const old = st.oldBalanceCents ?? 0;
  lines.push(rec(`0` + `0000` + ddmmyy(st.date) + `300` + `05` + ` ` + ' '.repeat(7) + pad('REF', 10) + pad('EASY2PHONE SRL', 26) + pad('GKCCBEBB', 11) + num(0, 11) + ' ' + pad('', 5) + pad('', 16) + pad('', 16) + ' '.repeat(7) + '2'));
  const acct = pad(st.account, 31) + '   ' + 'EUR';
  lines.push(rec(`1` + `2` + seq + acct + (old < 0 ? '1' : '0') + amount15(Math.abs(old)) + ddmmyy(st.date) + pad('EASY2PHONE SRL', 26) + pad('Compte courant', 35) + seq));
  let debit = 0;
  let credit = 0;
  st.movements.forEach((m, i) => {
    const s4 = num(i + 1, 4);
    if (m.credit) credit += m.amountCents;
    else debit += m.amountCents;
    const d = m.date ?? st.date;
    const structured = m.ogm !== undefined;
    const comm = structured ? pad(`101${m.ogm}`, 53) : pad(m.freeText ?? '', 53);
    const rest = structured ? '' : (m.freeText ?? '').slice(53);
    const ref = pad(m.ref ?? `REF${num(st.sequence, 3)}${s4}`, 21);
    if (m.details) {
      lines.push(rec(`21` + s4 + `0000` + ref + (m.credit ? '0' : '1') + amount15(m.amountCents) + ddmmyy(d) + `00150000` + '0' + pad('GLOBALISATION', 53) + ddmmyy(d) + seq + '1' + '0' + ' ' + '0'));
      m.details.forEach((x, k) => {
        const c = x.ogm !== undefined ? pad(`101${x.ogm}`, 53) : pad('', 53);
        lines.push(rec(`21` + s4 + num(k + 1, 4) + ref + (m.credit ? '0' : '1') + amount15(x.amountCents) + ddmmyy(d) + `60150000` + (x.ogm !== undefined ? '1' : '0') + c + ddmmyy(d) + seq + '0' + '0' + ' ' + '0'));
      });
    } else {
      lines.push(rec(`21` + s4 + `0000` + ref + (m.credit ? '0' : '1') + amount15(m.amountCents) + ddmmyy(d) + `00150000` + (structured ? '1' : '0') + comm + ddmmyy(d) + seq + '0' + '1' + ' ' + (m.info ? '1' : '0')));
      lines.push(rec(`22` + s4 + `0000` + pad(rest, 53) + pad('', 35) + pad('GEBABEBB', 11) + '   ' + ' ' + '    ' + '    ' + '    ' + '1' + ' ' + (m.info ? '1' : '0')));
      lines.push(rec(`23` + s4 + `0000` + pad(m.iban ?? '', 34) + (m.iban ? 'EUR' : '   ') + pad(m.name ?? '', 35) + pad(rest.slice(53), 43) + '0' + ' ' + (m.info ? '1' : '0')));
    }
    if (m.info) {
      lines.push(rec(`31` + s4 + `0000` + ref + `00150000` + '1' + pad('001INFO ABOUT THE COUNTERPARTY', 73) + ' '.repeat(12) + '1' + ' ' + '0'));
      lines.push(rec(`32` + s4 + `0000` + pad('RUE DE LA LOI 16 1000 BRUXELLES', 105) + ' '.repeat(10) + '1' + ' ' + '0'));
      lines.push(rec(`33` + s4 + `0000` + pad('MORE', 90) + ' '.repeat(25) + '0' + ' ' + '0'));
    }
  });
  if (st.movements.some((m) => m.info)) lines.push(rec(`4` + ' ' + num(st.movements.length, 4) + '0000' + ' '.repeat(22) + pad('FREE MESSAGE FROM THE BANK', 80) + ' '.repeat(15) + '0'));
  const newBal = old + credit - debit;
  lines.push(rec(`8` + seq + pad(st.account, 31) + '   ' + 'EUR' + (newBal < 0 ? '1' : '0') + amount15(Math.abs(newBal)) + ddmmyy(st.date) + ' '.repeat(64) + '0'));
  const count = opts.trailerCount ?? lines.filter((l) => l[0] !== '0' && l[0] !== '4').length; // records 1, 2.x, 3.x, 8
  lines.push(rec(`9` + ' '.repeat(15) + num(count, 6) + amount15(debit) + amount15(opts.trailerCreditCents ?? credit) + ' '.repeat(75) + '2'));
  return `${lines.join('\r\n')}\r\n`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const euros = (cents: number): string => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

export function camtFile(st: TestStatement, opts: { omitAmountOf?: number } = {}): string {
  const entries = st.movements
    .map((m, i) => {
      const d = m.date ?? st.date;
      const amt = opts.omitAmountOf === i ? '' : `\n        <Amt Ccy="EUR">${euros(m.amountCents)}</Amt>`;
      const party = m.credit ? 'Dbtr' : 'Cdtr';
      const rmt = m.ogm !== undefined ? `<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>BBA</Issr></Tp><Ref>${m.ogm}</Ref></CdtrRefInf></Strd>` : `<Ustrd>${esc(m.freeText ?? '')}</Ustrd>`;
      return `
      <Ntry>${amt}
        <CdtDbtInd>${m.credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>${d}</Dt></BookgDt>
        <ValDt><Dt>${d}</Dt></ValDt>
        <AcctSvcrRef>${m.ref ?? `${st.sequence}-${i + 1}`}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>E2E-${st.sequence}-${i + 1}</EndToEndId></Refs>
            <RltdPties>
              <${party}><Nm>${esc(m.name ?? 'Payer')}</Nm></${party}>${m.iban ? `\n              <${party}Acct><Id><IBAN>${m.iban}</IBAN></Id></${party}Acct>` : ''}
            </RltdPties>
            <RmtInf>${rmt}</RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>MSG-${st.sequence}</MsgId>
      <CreDtTm>${st.date}T06:00:00+01:00</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>STMT-${st.date.slice(0, 4)}-${num(st.sequence, 3)}</Id>
      <ElctrncSeqNb>${st.sequence}</ElctrncSeqNb>
      <CreDtTm>${st.date}T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>${st.account}</IBAN></Id><Ccy>EUR</Ccy></Acct>${entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
`;
}
