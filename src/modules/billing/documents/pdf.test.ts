/** Invoice and credit note PDFs (§8): French by default, Dutch and English; every mandatory mention of a Belgian invoice. */
import { describe, expect, it } from 'vitest';
import { RUN_LINES, sampleDocument } from '../../../../test/support/billing-documents.ts';
import { pdfText } from '../../../../test/support/pdf-text.ts';
import { formatMoney, renderPdf, unitPrice } from './pdf.ts';

describe('invoice PDF', () => {
  it('French (default): every mandatory mention', async () => {
    const doc = sampleDocument({ lines: RUN_LINES });
    const pdf = await renderPdf(doc, { compress: false });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf);
    for (const mention of [
      'Facture',
      'CE+T Télécommunications SA', // seller name, address, VAT, register
      'Rue de la Station 1',
      '4000 Liège (BE)',
      'N° TVA BE0812.345.603',
      'RPM Liège',
      'ACME SRL', // buyer name, address, VAT
      'Boulevard d’Avroy 12',
      'N° TVA BE0455.218.921',
      'Numéro : 2027-000002',
      'Date de facture : 28/01/2027',
      "Date d'échéance : 27/02/2027",
      'Période : 15/01/2027 – 28/02/2027',
      'Abonnement (prorata) — Utilisateur — janvier 2027', // lines, quantity, unit price, VAT rate, amount
      '15/01/2027 – 31/01/2027',
      '6,8567 €', // 20.57 / 3
      '12,50 €',
      '37,50 €',
      'Communications hors forfait (7 appels) — BE-MOBILE',
      '-5,00 €',
      '21 %',
      'Récapitulatif TVA', // VAT per rate
      '54,90 €',
      '11,53 €',
      "Hors champ d'application de la TVA", // category E/O mention
      '15,37 €',
      'Total HTVA',
      '70,27 €',
      'Total TVAC',
      '81,80 €',
      'BE36 0682 0000 0081', // IBAN, BIC, structured communication
      'GKCCBEBB',
      'Communication structurée : +++202/7000/00223+++',
      'Intérêts de retard — facture 2027-000001 (12 jours) & <autres>',
    ]) {
      expect(text, mention).toContain(mention);
    }
  });

  it('Dutch and English by the client language', async () => {
    const nl = pdfText(await renderPdf(sampleDocument({ language: 'nl', lines: RUN_LINES }), { compress: false }));
    for (const m of ['Factuur', 'Btw-nr. BE0455.218.921', 'Factuurdatum : 28/01/2027', 'Vervaldatum : 27/02/2027', 'Totaal incl. btw', '€ 81,80', 'Gestructureerde mededeling : +++202/7000/00223+++', 'Buiten het toepassingsgebied van de btw', 'januari 2027']) {
      expect(nl, m).toContain(m);
    }
    const en = pdfText(await renderPdf(sampleDocument({ language: 'en', lines: RUN_LINES }), { compress: false }));
    for (const m of ['Invoice', 'VAT no. BE0812.345.603', 'Due date : 27/02/2027', 'Total incl. VAT', '€81.80', 'Structured communication : +++202/7000/00223+++', 'Outside the scope of VAT', 'January 2027']) {
      expect(en, m).toContain(m);
    }
  });

  it('a credit note names the invoice it corrects and the reason, and is deterministic', async () => {
    const doc = sampleDocument({ kind: 'credit_note', lines: RUN_LINES.slice(0, 2) });
    const a = await renderPdf(doc, { compress: false });
    const text = pdfText(a);
    for (const m of ['Note de crédit', 'NC2027-000001', 'Facture corrigée : 2027-000002 (28/01/2027)', 'Motif : Erreur de quantité', 'Total TVAC']) expect(text, m).toContain(m);
    expect(text).not.toContain("Date d'échéance");
    expect((await renderPdf(doc)).subarray(0, 5).toString()).toBe('%PDF-');
    expect(Buffer.compare(a, await renderPdf(doc, { compress: false }))).toBe(0);
  });

  it('money is formatted from cents exactly', () => {
    expect(formatMoney(123456789, 'fr')).toBe('1 234 567,89 €');
    expect(formatMoney(-5, 'nl')).toBe('€ -0,05');
    expect(formatMoney(9007199254740993n, 'en')).toBe('€90,071,992,547,409.93');
    expect(unitPrice(2057, 3, 'fr')).toBe('6,8567 €');
    expect(unitPrice(-500, 1, 'fr')).toBe('-5,00 €');
  });
});
