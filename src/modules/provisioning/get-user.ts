import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import { assertClientAccess, type Actor } from './access.ts';
import type { provisionedUsers } from './schema.ts';
import { loadUser } from './user-store.ts';

/**
 * A current user of `clientId`, after the tenant check: another tenant's user is the
 * recorded 404, exactly like a missing one.
 */
export async function loadClientUser(
  db: DbOrTx,
  actor: Actor,
  clientId: string,
  userId: string,
  roles: readonly string[] | null,
): Promise<typeof provisionedUsers.$inferSelect> {
  assertClientAccess(actor, clientId, roles);
  const row = await loadUser(db, userId);
  if (row) assertClientAccess(actor, row.clientId, null, 'user', userId);
  if (!row || row.clientId !== clientId || row.deletedAt !== null) throw notFound('user', userId);
  return row;
}
