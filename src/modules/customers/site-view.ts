import { and, asc, eq } from 'drizzle-orm';
import { Type, type Static } from 'typebox';
import type { DbOrTx } from '../../db/client.ts';
import { AddressSchema } from './client-view.ts';
import { clientSites } from './schema.ts';

export const SiteViewSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  clientId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  address: AddressSchema,
  createdAt: Type.String({ format: 'date-time' }),
});
export type SiteView = Static<typeof SiteViewSchema>;

export const toSiteView = (r: typeof clientSites.$inferSelect): SiteView => ({
  id: r.id,
  clientId: r.clientId,
  name: r.name,
  address: r.address,
  createdAt: r.createdAt.toISOString(),
});

/** For provisioning: a site of this client (the emergency location of a user), undefined when not the client's. */
export async function siteOf(db: DbOrTx, clientId: string, siteId: string): Promise<SiteView | undefined> {
  const [row] = await db
    .select()
    .from(clientSites)
    .where(and(eq(clientSites.id, siteId), eq(clientSites.clientId, clientId)))
    .limit(1);
  return row ? toSiteView(row) : undefined;
}

export async function sitesOf(db: DbOrTx, clientId: string): Promise<SiteView[]> {
  return (await db.select().from(clientSites).where(eq(clientSites.clientId, clientId)).orderBy(asc(clientSites.id))).map(toSiteView);
}
