import type { AppContext } from '../../context.ts';
import { conflict, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { isUniqueViolation } from '../identity/unique-violation.ts';
import { assertClientAccess, assertProvisioningAllowed, PROVISION_ROLES, type Actor } from './access.ts';
import { generateCredentials } from './credentials.ts';
import { assertExtension, sipUsername } from './extension.ts';
import { provisionedUsers } from './schema.ts';
import { currentUsers } from './user-store.ts';
import { toUserView, type UserWithCredentials } from './views.ts';
import { notifyChange } from '../../db/changes.ts';

export interface NewUser {
  extension: string;
  displayName?: string | null | undefined;
  /** Emergency location (site). */
  site?: string | null | undefined;
}

export interface CreateUsersOptions {
  actor: Actor;
  clientId: string;
  users: NewUser[];
  requestId?: string | undefined;
}

/**
 * Creates one or many users (extensions) with their SIP credentials. §2.2: only on a
 * signed contract; §13.1: never after termination. The passwords are returned once here.
 */
export async function createUsers(ctx: AppContext, opts: CreateUsersOptions): Promise<UserWithCredentials[]> {
  const { actor, clientId } = opts;
  assertClientAccess(actor, clientId, PROVISION_ROLES);
  if (opts.users.length === 0) throw validationError('/users', 'at least one user');
  const extensions = opts.users.map((u) => assertExtension(u.extension));
  if (new Set(extensions).size !== extensions.length) throw validationError('/extension', 'the same extension twice');
  const now = ctx.clock.now();
  const realm = ctx.config.sip.domain;
  try {
    return await ctx.db.transaction(async (tx) => {
      await assertProvisioningAllowed(tx, clientId);
      const taken = new Set((await currentUsers(tx, clientId)).map((u) => u.extension));
      const clash = extensions.find((e) => taken.has(e));
      if (clash) throw conflict('EXTENSION_TAKEN', `Extension ${clash} is already used by this client`);
      const out: UserWithCredentials[] = [];
      for (const u of opts.users) {
        const username = sipUsername(clientId, u.extension);
        const creds = generateCredentials(username, realm);
        const [row] = await tx
          .insert(provisionedUsers)
          .values({
            id: newId(now),
            clientId,
            extension: u.extension,
            displayName: u.displayName?.trim() || null,
            site: u.site?.trim() || null,
            sipUsername: username,
            sipRealm: realm,
            ha1Md5: creds.ha1Md5,
            ha1Sha256: creds.ha1Sha256,
            credentialsSetAt: now,
            createdAt: now,
          })
          .returning();
        await notifyChange(tx, 'sip_user', username); // forget "unknown" in this node's SIP cache at once
        const user = toUserView(row!);
        await recordAudit(tx, {
          at: now,
          actor,
          action: 'user.create',
          entity: 'user',
          entityId: user.id,
          clientId,
          before: null,
          after: user,
          clause: '2.2',
          requestId: opts.requestId ?? null,
        });
        out.push({ user, credentials: { username, realm, password: creds.password } });
      }
      return out;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'provisioned_users_extension_uq')) throw conflict('EXTENSION_TAKEN', 'This extension is already used by this client');
    if (isUniqueViolation(e, 'provisioned_users_sip_username_uq')) throw conflict('SIP_USERNAME_TAKEN', 'This SIP username is already used');
    throw e;
  }
}
