/**
 * The parties of an invoice (Belgian invoice mentions, Code TVA art. 5 AR n° 1; Peppol
 * BIS 3 BG-4/BG-7): the seller — the operator (RULES.md §1), a policy setting
 * `billing.seller` with the defaults below — and the buyer, the client. Snapshotted on
 * the invoice when it is issued, so its documents never change afterwards (§8 "An issued
 * invoice never changes").
 */
import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.ts';
import { settings } from '../../../db/settings-schema.ts';
import { parseEnterpriseNumber } from '../../../kernel/enterprise-number.ts';
import { clients, type PostalAddress } from '../../customers/schema.ts';

export type DocumentLanguage = 'fr' | 'nl' | 'en';

export interface SellerIdentity {
  name: string;
  /** 10 digits, `0812345603` (Peppol EndpointID / legal entity scheme 0208). */
  enterpriseNumber: string;
  address: PostalAddress;
  iban: string;
  bic: string;
  email: string | null;
  /** The register of legal entities (RPM/RPR), a mandatory mention of a Belgian company's documents. */
  register: string | null;
}

export interface BuyerIdentity {
  clientId: string;
  name: string;
  /** 10 digits, or null when the client has none (then no EndpointID / VAT id). */
  enterpriseNumber: string | null;
  address: PostalAddress | null;
  language: DocumentLanguage;
  email: string | null;
}

export interface DocumentParties {
  seller: SellerIdentity;
  buyer: BuyerIdentity;
}

export const SELLER_SETTING = 'billing.seller';

/** Defaults of the `billing.seller` setting (the operator overrides them: docs/operator-guide.md). */
export const DEFAULT_SELLER: SellerIdentity = {
  name: 'CE+T Télécommunications SA',
  enterpriseNumber: '0812345603',
  address: { street: 'Rue de la Station 1', postalCode: '4000', city: 'Liège', country: 'BE' },
  iban: 'BE36068200000081',
  bic: 'GKCCBEBB',
  email: 'facturation@easy2phone.be',
  register: 'RPM Liège',
};

function isSeller(v: unknown): v is Partial<SellerIdentity> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `billing.seller` setting's value over the defaults. */
const sellerOf = (v: unknown): SellerIdentity => (isSeller(v) ? { ...DEFAULT_SELLER, ...v, address: { ...DEFAULT_SELLER.address, ...(v.address ?? {}) } } : DEFAULT_SELLER);

export async function sellerIdentity(db: DbOrTx): Promise<SellerIdentity> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, SELLER_SETTING));
  return sellerOf(row?.value);
}

/** Validates and stores the seller identity (staff setting). */
export async function setSellerIdentity(db: DbOrTx, seller: SellerIdentity, at: Date): Promise<void> {
  const ent = parseEnterpriseNumber(seller.enterpriseNumber);
  if (!ent) throw new RangeError(`seller enterprise number ${seller.enterpriseNumber} is not a valid Belgian enterprise number`);
  const value = { ...seller, enterpriseNumber: ent.digits, iban: seller.iban.replace(/\s/g, '').toUpperCase() };
  await db.insert(settings).values({ key: SELLER_SETTING, value, updatedAt: at }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: at } });
}

export async function buyerIdentity(db: DbOrTx, clientId: string): Promise<BuyerIdentity> {
  const [c] = await db.select().from(clients).where(eq(clients.id, clientId)).limit(1);
  return buyerOf(clientId, c);
}

function buyerOf(clientId: string, c: typeof clients.$inferSelect | undefined): BuyerIdentity {
  if (!c) throw new Error(`client ${clientId} not found`);
  return {
    clientId,
    name: c.legalName ?? c.name,
    enterpriseNumber: c.enterpriseNumber ? (parseEnterpriseNumber(c.enterpriseNumber)?.digits ?? null) : null,
    address: c.address ?? null,
    language: c.language,
    email: c.billingEmail,
  };
}

/** Seller and buyer in one statement (every invoice issued reads them): the setting as a subquery beside the client's row. */
export async function currentParties(db: DbOrTx, clientId: string): Promise<DocumentParties> {
  const [row] = await db
    .select({ client: clients, seller: sql<unknown>`(select ${settings.value} from ${settings} where ${settings.key} = ${SELLER_SETTING})` })
    .from(clients)
    .where(eq(clients.id, clientId))
    .limit(1);
  return { seller: sellerOf(row?.seller), buyer: buyerOf(clientId, row?.client) };
}

/** `0812345603` → `BE0812.345.603` (the Belgian VAT number is BE + the enterprise number). */
export const formatEnterpriseNumber = (digits: string): string => `BE${digits.slice(0, 4)}.${digits.slice(4, 7)}.${digits.slice(7)}`;
export const vatIdOf = (digits: string): string => `BE${digits}`;
/** IBAN in groups of four for print. */
export const formatIban = (iban: string): string => iban.replace(/(.{4})(?=.)/g, '$1 ');
