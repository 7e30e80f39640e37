/**
 * CAMT.053 and CODA parsers: the sample files of test/fixtures/bank (the formats' real
 * layouts), property tests that a generated valid file round-trips its amounts exactly
 * (integer cents), and malformed variants refused with the position of the fault.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { camtFile, codaFile, type TestMovement, type TestStatement } from '../../../../test/support/bank-files.ts';
import { BankFileError, detectFormat, parseBankFile, parseCamt053, parseCoda, type BankStatement } from './index.ts';
import { parseXml } from './xml.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../../../test/fixtures/bank/${name}`, import.meta.url), 'utf8');

function ok(r: BankStatement | BankFileError): BankStatement {
  if (r instanceof BankFileError) throw new Error(`refused: ${r.message}`);
  return r;
}
function refused(r: BankStatement | BankFileError): BankFileError {
  if (!(r instanceof BankFileError)) throw new Error('accepted a malformed file');
  return r;
}

describe('sample files', () => {
  it('reads the CODA sample: credits with OGM, free text, payer IBAN and name; the debit', () => {
    const st = ok(parseBankFile(fixture('statement-valid.cod')));
    expect(st).toMatchObject({ format: 'coda', statementId: 'coda:BE68539007547034:2027:001', account: 'BE68539007547034', date: '2027-05-20' });
    expect(st.entries.map((e) => [e.direction, e.amountCents, e.structuredReference, e.freeText, e.payerIban])).toEqual([
      ['credit', 6050, '202700000122', null, 'BE71096123456769'],
      ['credit', 1234, null, 'Facture 2027-000002 merci', 'BE62510007547061'],
      ['credit', 500, null, '202 7000 00324', null],
      ['credit', 2000, null, 'virement', 'BE71096123456769'],
      ['credit', 777, null, 'don anonyme', 'BE43068999999501'],
      ['debit', 999, null, 'frais bancaires', null],
    ]);
    expect(st.entries[0]).toMatchObject({ entryId: '2027/001/0001/0000', bookingDate: '2027-05-20', valueDate: '2027-05-20', payerName: 'BRAVO SA', bankReference: 'BNK0001' });
  });

  it('reads the CAMT.053 sample with the same entries', () => {
    const st = ok(parseBankFile(fixture('statement-valid.xml')));
    expect(st).toMatchObject({ format: 'camt053', statementId: 'camt053:BE68539007547034:STMT-2027-002', date: '2027-05-21' });
    expect(st.entries.map((e) => [e.entryId, e.direction, e.amountCents, e.structuredReference ?? e.freeText, e.payerIban, e.endToEndId])).toEqual([
      ['CAMT-0001', 'credit', 6050, '202700000122', 'BE71096123456769', 'E2E-2-1'],
      ['CAMT-0002', 'credit', 1234, 'Paiement facture 2027-000002', 'BE62510007547061', 'E2E-2-2'],
      ['CAMT-0003', 'credit', 500, 'ref 202700000324', null, 'E2E-2-3'],
      ['CAMT-0004', 'credit', 2000, 'virement', 'BE71096123456769', 'E2E-2-4'],
      ['CAMT-0005', 'credit', 777, 'don anonyme', 'BE43068999999501', 'E2E-2-5'],
      ['CAMT-0006', 'debit', 999, 'frais bancaires', null, 'E2E-2-6'],
    ]);
  });

  it('refuses the malformed samples, naming the position', () => {
    expect(refused(parseBankFile(fixture('bad-record-length.cod')))).toMatchObject({ line: 4, column: 128 });
    expect(refused(parseBankFile(fixture('bad-trailer-count.cod')))).toMatchObject({ line: 22, column: 17 });
    expect(refused(parseBankFile(fixture('bad-trailer-sum.cod')))).toMatchObject({ line: 22, column: 38 });
    expect(refused(parseBankFile(fixture('bad-xml.xml')))).toMatchObject({ line: 35, column: 18 });
    const missing = refused(parseBankFile(fixture('missing-amount.xml')));
    expect(missing.path).toBe('Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt');
    expect(missing.message).toContain('missing element Amt');
  });

  it('detects the format', () => {
    expect(detectFormat(fixture('statement-valid.xml'))).toBe('camt053');
    expect(detectFormat(fixture('statement-valid.cod'))).toBe('coda');
    expect(detectFormat('hello')).toBeNull();
    expect(refused(parseBankFile('hello'))).toMatchObject({ line: 1, column: 1 });
  });
});

describe('CODA checks', () => {
  const base: TestStatement = { account: 'BE68539007547034', sequence: 7, date: '2028-02-29', oldBalanceCents: 0, movements: [{ amountCents: 123456, credit: true, ogm: '202700000122' }] };
  const lines = (): string[] => codaFile(base).split('\r\n').filter((l) => l !== '');
  const join = (ls: string[]): string => `${ls.join('\n')}\n`;

  it('reads a leap day and accepts LF line ends', () => {
    const st = ok(parseCoda(join(lines())));
    expect(st.entries[0]).toMatchObject({ amountCents: 123456, valueDate: '2028-02-29' });
  });
  it('refuses a fraction of a cent, a non-digit amount, a bad date, a wrong version, a non-EUR account and a broken balance', () => {
    const l = lines();
    const at = (i: number, col: number, text: string): string => join(l.map((x, j) => (j === i ? x.slice(0, col - 1) + text + x.slice(col - 1 + text.length) : x)));
    expect(refused(parseCoda(at(2, 47, '5')))).toMatchObject({ line: 3, column: 47 });
    expect(refused(parseCoda(at(2, 40, 'x')))).toMatchObject({ line: 3, column: 33 });
    expect(refused(parseCoda(at(2, 48, '310228')))).toMatchObject({ line: 3, column: 48 });
    expect(refused(parseCoda(at(0, 128, '1')))).toMatchObject({ line: 1, column: 128 });
    expect(refused(parseCoda(at(1, 40, 'USD')))).toMatchObject({ line: 2, column: 40 });
    expect(refused(parseCoda(at(5, 50, '9')))).toMatchObject({ line: 6, column: 43 });
    expect(refused(parseCoda(join(l.slice(0, -1))))).toMatchObject({ line: 6 });
    expect(refused(parseCoda(join([...l, l[0]!])))).toMatchObject({ line: 8, column: 1 });
  });
});

describe('CODA globalisation and information records', () => {
  it('a globalised movement gives one entry per detail; 3.x and 4 records are counted and skipped', () => {
    const st: TestStatement = {
      account: 'BE68539007547034',
      sequence: 3,
      date: '2027-06-01',
      oldBalanceCents: 5000,
      movements: [
        { amountCents: 9000, credit: true, details: [{ amountCents: 6050, ogm: '202700000122' }, { amountCents: 2950 }] },
        { amountCents: 100, credit: false, freeText: 'frais', info: true },
      ],
    };
    const parsed = ok(parseCoda(codaFile(st)));
    expect(parsed.entries.map((e) => [e.entryId, e.direction, e.amountCents, e.structuredReference])).toEqual([
      ['2027/003/0001/0001', 'credit', 6050, '202700000122'],
      ['2027/003/0001/0002', 'credit', 2950, null],
      ['2027/003/0002/0000', 'debit', 100, null],
    ]);
    // Details that do not add up to their globalised movement are refused at the movement.
    const broken = codaFile({ ...st, movements: [{ amountCents: 9000, credit: true, details: [{ amountCents: 6050 }, { amountCents: 2949 }] }] });
    expect(refused(parseCoda(broken))).toMatchObject({ line: 3, column: 33 });
  });
});

describe('CAMT.053 checks', () => {
  const doc = (ntry: string): string =>
    `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2027-03-28T01:30:00+01:00</CreDtTm></GrpHdr><Stmt><Id>S1</Id><CreDtTm>2027-03-28T01:30:00+01:00</CreDtTm><Acct><Id><IBAN>BE68 5390 0754 7034</IBAN></Id></Acct>${ntry}</Stmt></BkToCstmrStmt></Document>`;
  it('splits a batch entry into its transactions, whose amounts must add up', () => {
    const tx = (amt: string, ref: string) => `<TxDtls><Refs><AcctSvcrRef>${ref}</AcctSvcrRef></Refs><AmtDtls><TxAmt><Amt Ccy="EUR">${amt}</Amt></TxAmt></AmtDtls><RmtInf><Ustrd>a &amp; b</Ustrd></RmtInf></TxDtls>`;
    const ntry = (total: string) => `<Ntry><Amt Ccy="EUR">${total}</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><DtTm>2027-03-28T03:30:00+02:00</DtTm></BookgDt><ValDt><Dt>2027-03-28</Dt></ValDt><NtryDtls>${tx('1.5', 'T1')}${tx('0.05', 'T2')}</NtryDtls></Ntry>`;
    const st = ok(parseCamt053(doc(ntry('1.55'))));
    expect(st.statementId).toBe('camt053:BE68539007547034:S1');
    expect(st.entries.map((e) => [e.entryId, e.amountCents, e.freeText, e.bookingDate])).toEqual([
      ['T1', 150, 'a & b', '2027-03-28'],
      ['T2', 5, 'a & b', '2027-03-28'],
    ]);
    expect(refused(parseCamt053(doc(ntry('1.56'))))).toMatchObject({ path: 'Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt' });
  });
  it('refuses a bad amount, a foreign currency, a bad indicator, another message, a DOCTYPE', () => {
    const n = (amt: string, ind = 'CRDT', ccy = 'EUR') => `<Ntry><Amt Ccy="${ccy}">${amt}</Amt><CdtDbtInd>${ind}</CdtDbtInd><BookgDt><Dt>2027-03-28</Dt></BookgDt></Ntry>`;
    expect(ok(parseCamt053(doc(n('10')))).entries[0]!.amountCents).toBe(1000);
    const pending = n('10').replace('<CdtDbtInd>', '<Sts><Cd>PDNG</Cd></Sts><CdtDbtInd>');
    expect(ok(parseCamt053(doc(pending + n('2.5')))).entries.map((e) => e.amountCents)).toEqual([250]);
    expect(refused(parseCamt053(doc(n('1.234'))))).toMatchObject({ path: 'Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt' });
    expect(refused(parseCamt053(doc(n('-5'))))).toMatchObject({ path: 'Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt' });
    expect(refused(parseCamt053(doc(n('5', 'CRDT', 'USD'))))).toMatchObject({ path: 'Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt' });
    expect(refused(parseCamt053(doc(n('5', 'XXX'))))).toMatchObject({ path: 'Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/CdtDbtInd' });
    expect(refused(parseCamt053(doc(n('5')).replace('camt.053.001.08', 'camt.054.001.08')))).toMatchObject({ path: 'Document' });
    expect(refused(parseCamt053('<!DOCTYPE x [<!ENTITY a "b">]><Document/>'))).toMatchObject({ line: 1, column: 1 });
  });
  it('is a strict XML reader', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/does not close/);
    expect(() => parseXml('<a x=1/>')).toThrow(/quoted/);
    expect(() => parseXml('<a>&foo;</a>')).toThrow(/unknown entity/);
    expect(() => parseXml('<a/><b/>')).toThrow(/after the root/);
    expect(parseXml('<?xml version="1.0"?><!-- c --><p:a xmlns:p="u"><![CDATA[<x>]]>&#233;</p:a>')).toMatchObject({ name: 'a', text: '<x>é' });
  });
});

// ---- properties ----
const ogmArb = fc.integer({ min: 0, max: 9_999_999_999 }).map((n) => {
  const base = String(n).padStart(10, '0');
  return base + String(Number(BigInt(base) % 97n) || 97).padStart(2, '0');
});
const movementArb: fc.Arbitrary<TestMovement> = fc.record({
  amountCents: fc.integer({ min: 1, max: 99_999_999_999 }),
  credit: fc.boolean(),
  ogm: fc.option(ogmArb, { nil: undefined }),
  freeText: fc.option(fc.stringMatching(/^[A-Za-z0-9 .\-/]{0,40}$/), { nil: undefined }),
});
const statementArb: fc.Arbitrary<TestStatement> = fc.record({
  account: fc.constant('BE68539007547034'),
  sequence: fc.integer({ min: 1, max: 999 }),
  date: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  oldBalanceCents: fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  movements: fc.array(movementArb, { minLength: 1, maxLength: 8 }),
});
const signed = (m: { amountCents: number; credit?: boolean; direction?: string }): number => (m.credit === true || m.direction === 'credit' ? m.amountCents : -m.amountCents);

describe('properties', () => {
  it('a generated CODA file round-trips its amounts exactly', () => {
    fc.assert(
      fc.property(statementArb, (st) => {
        const parsed = ok(parseCoda(codaFile(st)));
        expect(parsed.entries.map(signed)).toEqual(st.movements.map(signed));
        expect(parsed.entries.map((e) => e.structuredReference)).toEqual(st.movements.map((m) => m.ogm ?? null));
      }),
      { numRuns: 150 },
    );
  });
  it('a generated CAMT.053 file round-trips its amounts exactly', () => {
    fc.assert(
      fc.property(statementArb, (st) => {
        const parsed = ok(parseCamt053(camtFile(st)));
        expect(parsed.entries.map(signed)).toEqual(st.movements.map(signed));
      }),
      { numRuns: 150 },
    );
  });
  it('a CODA record of the wrong length is refused at its line', () => {
    fc.assert(
      fc.property(statementArb, fc.nat(), fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0), (st, pick, delta) => {
        const ls = codaFile(st).split('\r\n').filter((l) => l !== '');
        const i = pick % ls.length;
        ls[i] = delta < 0 ? ls[i]!.slice(0, 128 + delta) : ls[i]! + 'X'.repeat(delta);
        expect(refused(parseCoda(ls.join('\r\n')))).toMatchObject({ line: i + 1, column: Math.min(128 + delta, 128) + 1 });
      }),
      { numRuns: 100 },
    );
  });
  it('a wrong trailer count or credit sum is refused at the trailer', () => {
    fc.assert(
      fc.property(statementArb, fc.integer({ min: 1, max: 50 }), (st, off) => {
        const lines = codaFile(st).split('\r\n').filter((l) => l !== '').length;
        expect(refused(parseCoda(codaFile(st, { trailerCount: lines - 2 + off })))).toMatchObject({ line: lines, column: 17 });
        const credit = st.movements.filter((m) => m.credit).reduce((s, m) => s + m.amountCents, 0);
        expect(refused(parseCoda(codaFile(st, { trailerCreditCents: credit + off })))).toMatchObject({ line: lines, column: 38 });
      }),
      { numRuns: 100 },
    );
  });
  it('a truncated CAMT.053 file is refused with a line; a missing amount names its element', () => {
    fc.assert(
      fc.property(statementArb, fc.nat(), (st, pick) => {
        const xml = camtFile(st);
        const cut = 1 + (pick % (xml.trimEnd().length - 2));
        const e = refused(parseCamt053(xml.slice(0, cut)));
        expect(e.line).toBeGreaterThanOrEqual(1);
        const i = pick % st.movements.length;
        expect(refused(parseCamt053(camtFile(st, { omitAmountOf: i })))).toMatchObject({ path: `Document/BkToCstmrStmt/Stmt[1]/Ntry[${i + 1}]/Amt` });
      }),
      { numRuns: 100 },
    );
  });
});
