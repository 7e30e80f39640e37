import { eq } from 'drizzle-orm';
import { Type, type Static } from 'typebox';
import type { DbOrTx } from '../../db/client.ts';
import { clients } from './schema.ts';

export type ClientRow = typeof clients.$inferSelect;

export const LANGUAGES = ['fr', 'nl', 'en'] as const;
export const LanguageSchema = Type.Enum([...LANGUAGES]);

export const AddressSchema = Type.Object({
  street: Type.String(),
  postalCode: Type.String(),
  city: Type.String(),
  country: Type.String(),
});

export const ClientViewSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  enterpriseNumber: Type.Union([Type.String(), Type.Null()]),
  language: LanguageSchema,
  billingEmail: Type.Union([Type.String(), Type.Null()]),
  legalName: Type.Union([Type.String(), Type.Null()]),
  address: Type.Union([AddressSchema, Type.Null()]),
  depositCents: Type.Integer(),
  serviceState: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type ClientView = Static<typeof ClientViewSchema>;

export const toClientView = (c: ClientRow): ClientView => ({
  id: c.id,
  name: c.name,
  enterpriseNumber: c.enterpriseNumber,
  language: c.language,
  billingEmail: c.billingEmail,
  legalName: c.legalName,
  address: c.address,
  depositCents: c.depositCents,
  serviceState: c.serviceState,
  createdAt: c.createdAt.toISOString(),
});

export async function loadClient(db: DbOrTx, id: string): Promise<ClientRow | undefined> {
  const [row] = await db.select().from(clients).where(eq(clients.id, id)).limit(1);
  return row;
}

/** For other modules: does this client exist? (They never read the clients table themselves.) */
export async function clientExists(db: DbOrTx, id: string): Promise<boolean> {
  return (await loadClient(db, id)) !== undefined;
}
