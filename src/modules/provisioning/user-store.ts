import { and, count, eq, gt, inArray, isNull, lte, or, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { provisionedUsers } from './schema.ts';

/** Database reads shared by the user use cases. */

/** Users existing at `at`: created by then and not deleted by then (soft-deleted rows keep the history). */
const existingAt = (at: Date): SQL | undefined => and(lte(provisionedUsers.createdAt, at), or(isNull(provisionedUsers.deletedAt), gt(provisionedUsers.deletedAt, at)));

export async function countUsersAt(db: DbOrTx, clientId: string, at: Date): Promise<number> {
  return (await countUsersAtOf(db, [clientId], at)).get(clientId) ?? 0;
}

/** `countUsersAt` for several clients in one statement (the billing run reads a group of clients at once); clients without users are absent. */
export async function countUsersAtOf(db: DbOrTx, clientIds: readonly string[], at: Date): Promise<Map<string, number>> {
  if (clientIds.length === 0) return new Map();
  const rows = await db
    .select({ clientId: provisionedUsers.clientId, n: count() })
    .from(provisionedUsers)
    .where(
      and(inArray(provisionedUsers.clientId, [...clientIds]), existingAt(at)),
    )
    .groupBy(provisionedUsers.clientId);
  return new Map(rows.map((r) => [r.clientId, r.n]));
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
