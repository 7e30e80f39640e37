/** The words of the invoice documents (§8 "French by default; Dutch and English too"). */
import type { DocumentLanguage } from './parties.ts';

export interface Labels {
  invoice: string;
  creditNote: string;
  number: string;
  issueDate: string;
  dueDate: string;
  period: string;
  seller: string;
  buyer: string;
  vatNumber: string;
  enterpriseNumber: string;
  description: string;
  quantity: string;
  unitPrice: string;
  amount: string;
  vatRate: string;
  vatBreakdown: string;
  taxableBase: string;
  vat: string;
  totalExcl: string;
  totalVat: string;
  totalIncl: string;
  toPay: string;
  payment: string;
  structuredCommunication: string;
  creditedInvoice: string;
  reason: string;
  outOfScope: string;
  outOfScopeShort: string;
  paymentTerms: (days: number) => string;
  creditNoteSettles: string;
  months: readonly string[];
  lineText: {
    recurring: string;
    prorata: string;
    regularisation: string;
    traffic: (calls: number) => string;
    one_off: string;
    termination_fee: string;
    defect_credit: string;
    intervention: string;
    interest: string;
    reminder_fee: string;
  };
}

const fr: Labels = {
  invoice: 'Facture',
  creditNote: 'Note de crédit',
  number: 'Numéro',
  issueDate: 'Date de facture',
  dueDate: "Date d'échéance",
  period: 'Période',
  seller: 'Fournisseur',
  buyer: 'Client',
  vatNumber: 'N° TVA',
  enterpriseNumber: "N° d'entreprise",
  description: 'Description',
  quantity: 'Quantité',
  unitPrice: 'Prix unitaire HTVA',
  amount: 'Montant HTVA',
  vatRate: 'TVA',
  vatBreakdown: 'Récapitulatif TVA',
  taxableBase: 'Base imposable',
  vat: 'TVA',
  totalExcl: 'Total HTVA',
  totalVat: 'Total TVA',
  totalIncl: 'Total TVAC',
  toPay: 'À payer',
  payment: 'Paiement',
  structuredCommunication: 'Communication structurée',
  creditedInvoice: 'Facture corrigée',
  reason: 'Motif',
  outOfScope: "Hors champ d'application de la TVA (indemnité : intérêts de retard, frais de rappel)",
  outOfScopeShort: 'Hors champ TVA',
  paymentTerms: (d) => `Payable dans les ${d} jours de la date de facture (§5.2). Intérêts de retard de 1 % par mois et frais de rappel en cas de retard (§5.2, §8.8).`,
  creditNoteSettles: 'Cette note de crédit est déduite de votre solde.',
  months: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
  lineText: {
    recurring: 'Abonnement',
    prorata: 'Abonnement (prorata)',
    regularisation: 'Régularisation (augmentation, §8.5)',
    traffic: (n) => `Communications hors forfait (${n} appels)`,
    one_off: 'Frais uniques',
    termination_fee: 'Indemnité de résiliation anticipée',
    defect_credit: 'Réduction pour défaut (§10.4)',
    intervention: 'Intervention',
    interest: 'Intérêts de retard (§5.2)',
    reminder_fee: 'Frais de rappel (§8.8)',
  },
};

const nl: Labels = {
  invoice: 'Factuur',
  creditNote: 'Creditnota',
  number: 'Nummer',
  issueDate: 'Factuurdatum',
  dueDate: 'Vervaldatum',
  period: 'Periode',
  seller: 'Leverancier',
  buyer: 'Klant',
  vatNumber: 'Btw-nr.',
  enterpriseNumber: 'Ondernemingsnr.',
  description: 'Omschrijving',
  quantity: 'Aantal',
  unitPrice: 'Eenheidsprijs excl. btw',
  amount: 'Bedrag excl. btw',
  vatRate: 'Btw',
  vatBreakdown: 'Btw-overzicht',
  taxableBase: 'Maatstaf van heffing',
  vat: 'Btw',
  totalExcl: 'Totaal excl. btw',
  totalVat: 'Totaal btw',
  totalIncl: 'Totaal incl. btw',
  toPay: 'Te betalen',
  payment: 'Betaling',
  structuredCommunication: 'Gestructureerde mededeling',
  creditedInvoice: 'Gecorrigeerde factuur',
  reason: 'Reden',
  outOfScope: 'Buiten het toepassingsgebied van de btw (vergoeding: nalatigheidsinteresten, herinneringskosten)',
  outOfScopeShort: 'Buiten btw',
  paymentTerms: (d) => `Te betalen binnen ${d} dagen na factuurdatum (§5.2). Bij laattijdige betaling: nalatigheidsinteresten van 1 % per maand en herinneringskosten (§5.2, §8.8).`,
  creditNoteSettles: 'Deze creditnota wordt van uw saldo afgetrokken.',
  months: ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'],
  lineText: {
    recurring: 'Abonnement',
    prorata: 'Abonnement (pro rata)',
    regularisation: 'Regularisatie (verhoging, §8.5)',
    traffic: (n) => `Gesprekken buiten bundel (${n} oproepen)`,
    one_off: 'Eenmalige kosten',
    termination_fee: 'Vergoeding voor vroegtijdige opzegging',
    defect_credit: 'Vermindering wegens defect (§10.4)',
    intervention: 'Interventie',
    interest: 'Nalatigheidsinteresten (§5.2)',
    reminder_fee: 'Herinneringskosten (§8.8)',
  },
};

const en: Labels = {
  invoice: 'Invoice',
  creditNote: 'Credit note',
  number: 'Number',
  issueDate: 'Invoice date',
  dueDate: 'Due date',
  period: 'Period',
  seller: 'Supplier',
  buyer: 'Customer',
  vatNumber: 'VAT no.',
  enterpriseNumber: 'Enterprise no.',
  description: 'Description',
  quantity: 'Quantity',
  unitPrice: 'Unit price excl. VAT',
  amount: 'Amount excl. VAT',
  vatRate: 'VAT',
  vatBreakdown: 'VAT breakdown',
  taxableBase: 'Taxable amount',
  vat: 'VAT',
  totalExcl: 'Total excl. VAT',
  totalVat: 'Total VAT',
  totalIncl: 'Total incl. VAT',
  toPay: 'Amount due',
  payment: 'Payment',
  structuredCommunication: 'Structured communication',
  creditedInvoice: 'Invoice corrected',
  reason: 'Reason',
  outOfScope: 'Outside the scope of VAT (compensation: late-payment interest, reminder fees)',
  outOfScopeShort: 'Outside VAT',
  paymentTerms: (d) => `Payable within ${d} days of the invoice date (§5.2). Late payment: interest of 1 % per month and reminder fees (§5.2, §8.8).`,
  creditNoteSettles: 'This credit note is deducted from your balance.',
  months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  lineText: {
    recurring: 'Subscription',
    prorata: 'Subscription (pro rata)',
    regularisation: 'Regularisation (increase, §8.5)',
    traffic: (n) => `Calls outside the pack (${n} calls)`,
    one_off: 'One-off charge',
    termination_fee: 'Early termination fee',
    defect_credit: 'Reduction for a defect (§10.4)',
    intervention: 'Intervention',
    interest: 'Late-payment interest (§5.2)',
    reminder_fee: 'Reminder fee (§8.8)',
  },
};

export const LABELS: Record<DocumentLanguage, Labels> = { fr, nl, en };
