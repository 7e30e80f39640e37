import type { DbOrTx } from '../../db/client.ts';
import { assertClientAccess, type Actor } from './access.ts';
import { compareExtensions } from './extension.ts';
import { loadClientUser } from './get-user.ts';
import { currentUsers } from './user-store.ts';
import { toUserView, type UserView } from './views.ts';

export interface ListUsersOptions {
  actor: Actor;
  clientId: string;
}

/** The client's current users, by extension. */
export async function listUsers(db: DbOrTx, opts: ListUsersOptions): Promise<UserView[]> {
  assertClientAccess(opts.actor, opts.clientId, null);
  return (await currentUsers(db, opts.clientId)).sort((a, b) => compareExtensions(a.extension, b.extension)).map(toUserView);
}

export async function getUser(db: DbOrTx, opts: ListUsersOptions & { userId: string }): Promise<UserView> {
  return toUserView(await loadClientUser(db, opts.actor, opts.clientId, opts.userId, null));
}
