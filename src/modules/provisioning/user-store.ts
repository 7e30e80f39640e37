import { and, count, eq, gt, isNull, lte, or } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { provisionedUsers } from './schema.ts';

/** Database reads shared by the user use cases. */
export async function countUsersAt(db: DbOrTx, clientId: string, at: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(provisionedUsers)
    .where(
      and(
        eq(provisionedUsers.clientId, clientId),
        lte(provisionedUsers.createdAt, at),
        or(isNull(provisionedUsers.deletedAt), gt(provisionedUsers.deletedAt, at)),
      ),
    );
  return row?.n ?? 0;
}

export async function currentUsers(db: DbOrTx, clientId: string): Promise<(typeof provisionedUsers.$inferSelect)[]> {
  return db
    .select()
    .from(provisionedUsers)
    .where(and(eq(provisionedUsers.clientId, clientId), isNull(provisionedUsers.deletedAt)));
}

export async function loadUser(db: DbOrTx, userId: string): Promise<typeof provisionedUsers.$inferSelect | undefined> {
  const [row] = await db.select().from(provisionedUsers).where(eq(provisionedUsers.id, userId));
  return row;
}
