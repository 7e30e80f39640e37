/**
 * Invoices API (§8, §15.3): list and filter (staff across clients, a client its own only:
 * test-unauthorized-invoice-access), PDF and UBL downloads, credit notes (staff only,
 * NCYYYY-NNNNNN, partial and full, never beyond the invoice, the invoice unchanged, the
 * balance reduced).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/kernel/ids.ts';
import { checkPeppolUbl } from '../../src/modules/billing/documents/ubl-check.ts';
import { issueInvoice } from '../../src/modules/billing/issue-invoice.ts';
import { invoiceLines } from '../../src/modules/billing/schema.ts';
import { asc, eq } from 'drizzle-orm';
import { clients } from '../../src/modules/customers/schema.ts';
import { describeEachDb } from '../support/db.ts';
import { pdfText } from '../support/pdf-text.ts';
import { call, json, loginAs, seedAccount, startHarness, type Harness } from './harness.ts';

type Item = { id: string; number: string; kind: string; clientId: string; status: string; totalInclVatCents: number; lines: { amountCents: number }[] };

describeEachDb('invoices API: list, documents, credit notes', (kind) => {
  let h: Harness;
  let clientA: string;
  let clientB: string;
  let invoiceA: string;
  let invoiceB: string;
  let staff: string;
  let billing: string;
  let adminA: string;

  async function client(name: string, enterpriseNumber: string, language: 'fr' | 'nl' | 'en'): Promise<string> {
    const id = newId(h.clock.now());
    await h.platform.ctx.db.insert(clients).values({
      id,
      name,
      enterpriseNumber,
      language,
      address: { street: 'Rue Haute 5', postalCode: '1000', city: 'Bruxelles', country: 'BE' },
      createdAt: h.clock.now(),
    });
    return id;
  }
  async function invoice(clientId: string, runKey: string): Promise<string> {
    const id = await h.platform.ctx.db.transaction((tx) =>
      issueInvoice(tx, {
        clientId,
        runKey,
        at: h.clock.now(),
        clause: '8.1',
        periodStart: '2027-03-01',
        periodEnd: '2027-04-30',
        lines: [
          { type: 'recurring', productCode: 'USER', zone: null, quantity: 3, periodStart: '2027-04-01', periodEnd: '2027-04-30', amountCents: 3750, vatRate: 21, clause: '8.1' },
          { type: 'traffic', productCode: null, zone: 'BE-MOBILE', quantity: 4, periodStart: null, periodEnd: null, amountCents: 123, vatRate: 21, clause: '8.3' },
          { type: 'reminder_fee', productCode: null, zone: null, quantity: 1, periodStart: null, periodEnd: null, amountCents: 1500, vatRate: 0, clause: '8.8', description: 'Frais de rappel — facture 2027-000000' },
        ],
      }),
    );
    return id!;
  }

  beforeAll(async () => {
    h = await startHarness(kind);
    clientA = await client('Alpha SRL', 'BE0455.218.921', 'nl');
    clientB = await client('Beta SA', '0403170701', 'fr');
    invoiceA = await invoice(clientA, 'test:a');
    invoiceB = await invoice(clientB, 'test:b');
    staff = await loginAs(h, await seedAccount(h, 'support'));
    billing = await loginAs(h, await seedAccount(h, 'billing'));
    adminA = await loginAs(h, await seedAccount(h, 'client_admin', clientA));
  });
  afterAll(async () => {
    await h.close();
  });

  it('staff list every client and filter by client, status, kind, number and issue dates', async () => {
    const all = json<{ items: Item[]; total: number }>(await call(h, 'GET', '/api/v1/invoices', { cookie: staff }));
    expect(all.items.map((i) => i.number).sort()).toEqual(['2027-000001', '2027-000002']);
    const byClient = json<{ items: Item[] }>(await call(h, 'GET', `/api/v1/invoices?clientId=${clientB}`, { cookie: staff }));
    expect(byClient.items.map((i) => i.id)).toEqual([invoiceB]);
    expect(json<{ total: number }>(await call(h, 'GET', '/api/v1/invoices?number=2027-000001', { cookie: staff })).total).toBe(1);
    expect(json<{ total: number }>(await call(h, 'GET', '/api/v1/invoices?status=paid', { cookie: staff })).total).toBe(0);
    expect(json<{ total: number }>(await call(h, 'GET', '/api/v1/invoices?from=2027-03-01&to=2027-03-01', { cookie: staff })).total).toBe(2);
    expect(json<{ total: number }>(await call(h, 'GET', '/api/v1/invoices?from=2027-03-02', { cookie: staff })).total).toBe(0);
    expect((await call(h, 'GET', '/api/v1/invoices?from=yesterday', { cookie: staff })).statusCode).toBe(400);
  });

  it("a client sees only its own invoices; another client's list, invoice, PDF or UBL is 404", async () => {
    const own = json<{ items: Item[] }>(await call(h, 'GET', '/api/v1/invoices', { cookie: adminA }));
    expect(own.items.map((i) => i.id)).toEqual([invoiceA]);
    for (const url of [`/api/v1/invoices?clientId=${clientB}`, `/api/v1/invoices/${invoiceB}`, `/api/v1/invoices/${invoiceB}/pdf`, `/api/v1/invoices/${invoiceB}/ubl`]) {
      const res = await call(h, 'GET', url, { cookie: adminA });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await call(h, 'GET', `/api/v1/invoices/${invoiceA}`, { cookie: adminA })).statusCode).toBe(200);
  });

  it('PDF and UBL downloads: content types, file names, the client language, valid Peppol', async () => {
    const pdf = await call(h, 'GET', `/api/v1/invoices/${invoiceA}/pdf`, { cookie: adminA });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toBe('attachment; filename="2027-000001.pdf"');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const ubl = await call(h, 'GET', `/api/v1/invoices/${invoiceA}/ubl`, { cookie: staff });
    expect(ubl.statusCode).toBe(200);
    expect(ubl.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(ubl.headers['content-disposition']).toBe('attachment; filename="2027-000001.xml"');
    expect(checkPeppolUbl(ubl.body)).toEqual({ ok: true, errors: [] });
    const file = join(mkdtempSync(join(tmpdir(), 'e2p-ubl-')), 'a.xml');
    writeFileSync(file, ubl.body);
    execFileSync('xmllint', ['--noout', file]);
    expect(ubl.body).toContain('<cbc:EndpointID schemeID="0208">0455218921</cbc:EndpointID>');
    expect(ubl.body).toContain('<cbc:PaymentID>+++202/7000/00122+++</cbc:PaymentID>');
  });

  it('credit notes: staff only; partial then full, NC numbers gap-free, never beyond the invoice, the invoice unchanged but settled, the balance reduced', async () => {
    const before = json<Item>(await call(h, 'GET', `/api/v1/invoices/${invoiceA}`, { cookie: staff }));
    expect(before.lines).toHaveLength(3);
    const lines = await h.platform.ctx.db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, invoiceA)).orderBy(asc(invoiceLines.position));

    const refused = await call(h, 'POST', `/api/v1/invoices/${invoiceA}/credit-notes`, { cookie: adminA, body: { reason: 'x' } });
    expect(refused.statusCode).toBe(403);

    // Partial: 10.00 of the 37.50 subscription line.
    const first = await call(h, 'POST', `/api/v1/invoices/${invoiceA}/credit-notes`, { cookie: billing, body: { reason: 'Un utilisateur de trop', lines: [{ lineId: lines[0]!.id, amountCents: 1000 }] } });
    expect(first.statusCode, first.body).toBe(201);
    expect(json(first)).toMatchObject({ number: 'NC2027-000001', creditedInvoiceNumber: '2027-000001', totalExclVatCents: 1000, vatCents: 210, totalInclVatCents: 1210 });
    const balance = async (): Promise<number> => json<{ balanceCents: number }>(await call(h, 'GET', `/api/v1/clients/${clientA}/invoices`, { cookie: staff })).balanceCents;
    // 3750 + 123 + 1500 + VAT 813 (half-up of 38.73 × 21 % = 8.1333) = 6186; minus 1210.
    expect(before.totalInclVatCents).toBe(6186);
    expect(await balance()).toBe(6186 - 1210);

    const tooMuch = await call(h, 'POST', `/api/v1/invoices/${invoiceA}/credit-notes`, { cookie: billing, body: { reason: 'again', lines: [{ lineId: lines[0]!.id, amountCents: 2751 }] } });
    expect(tooMuch.statusCode).toBe(422);
    expect(json(tooMuch)).toMatchObject({ code: 'CREDIT_EXCEEDS_INVOICED', clause: '8' });

    // Full: what remains of every line.
    const full = await call(h, 'POST', `/api/v1/invoices/${invoiceA}/credit-notes`, { cookie: billing, body: { reason: 'Annulation' } });
    expect(full.statusCode, full.body).toBe(201);
    expect(json<{ number: string; lines: { amountCents: number }[] }>(full)).toMatchObject({ number: 'NC2027-000002', lines: [{ amountCents: 2750 }, { amountCents: 123 }, { amountCents: 1500 }] });
    const again = await call(h, 'POST', `/api/v1/invoices/${invoiceA}/credit-notes`, { cookie: billing, body: { reason: 'Encore' } });
    expect(json(again)).toMatchObject({ code: 'CREDIT_EXCEEDS_INVOICED' });

    // The invoice's content is unchanged; fully credited, it is settled (nothing left to dun);
    // the credit notes are listed, with their documents.
    expect(json(await call(h, 'GET', `/api/v1/invoices/${invoiceA}`, { cookie: staff }))).toEqual({ ...before, status: 'paid' });
    const account = json<{ openInvoices: unknown[]; creditCents: number }>(await call(h, 'GET', `/api/v1/clients/${clientA}/account`, { cookie: adminA }));
    expect(account).toMatchObject({ openInvoices: [], creditCents: 0 });
    const notes = json<{ items: Item[] }>(await call(h, 'GET', `/api/v1/invoices?kind=credit_note`, { cookie: adminA }));
    expect(notes.items.map((n) => n.number).sort()).toEqual(['NC2027-000001', 'NC2027-000002']);
    for (const n of notes.items) {
      const ubl = await call(h, 'GET', `/api/v1/invoices/${n.id}/ubl`, { cookie: adminA });
      expect(checkPeppolUbl(ubl.body)).toEqual({ ok: true, errors: [] });
      expect(ubl.body).toContain('<CreditNote');
      const pdf = await call(h, 'GET', `/api/v1/invoices/${n.id}/pdf`, { cookie: adminA });
      expect(pdf.headers['content-disposition']).toBe(`attachment; filename="${n.number}.pdf"`);
    }
    // Fully credited: nothing owed on it any more.
    expect(await balance()).toBe(0);
    expect(pdfText((await call(h, 'GET', `/api/v1/invoices/${notes.items[0]!.id}/pdf`, { cookie: adminA })).rawPayload)).toBe(''); // compressed: no readable text
  });

  it('the VAT category of a reminder fee follows its document (docs/operator-guide.md "Peppol UBL"): E beside 21 % lines, O when credited alone', async () => {
    const invoiceUbl = (await call(h, 'GET', `/api/v1/invoices/${invoiceB}/ubl`, { cookie: staff })).body;
    expect(checkPeppolUbl(invoiceUbl)).toEqual({ ok: true, errors: [] });
    // BR-O-11/12: no O beside S, so the fee is E (0 %, with the exemption text, BR-E-10) on the invoice.
    expect(invoiceUbl).toMatch(/<cac:TaxCategory>\s*<cbc:ID>E<\/cbc:ID>\s*<cbc:Percent>0<\/cbc:Percent>\s*<cbc:TaxExemptionReason>Hors champ/);
    expect(invoiceUbl).not.toContain('<cbc:ID>O</cbc:ID>');
    const [, , fee] = await h.platform.ctx.db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, invoiceB)).orderBy(asc(invoiceLines.position));
    const note = await call(h, 'POST', `/api/v1/invoices/${invoiceB}/credit-notes`, { cookie: billing, body: { reason: 'Frais de rappel annulés', lines: [{ lineId: fee!.id, amountCents: 1500 }] } });
    expect(note.statusCode, note.body).toBe(201);
    const noteUbl = (await call(h, 'GET', `/api/v1/invoices/${json<{ id: string }>(note).id}/ubl`, { cookie: staff })).body;
    expect(checkPeppolUbl(noteUbl)).toEqual({ ok: true, errors: [] });
    // Alone on its credit note the fee is O, VATEX-EU-O, and the document carries no VAT identifier (BR-O-02).
    expect(noteUbl).toMatch(/<cac:TaxCategory>\s*<cbc:ID>O<\/cbc:ID>\s*<cbc:TaxExemptionReasonCode>VATEX-EU-O<\/cbc:TaxExemptionReasonCode>/);
    expect(noteUbl).not.toContain('<cac:PartyTaxScheme>');
  });
});
