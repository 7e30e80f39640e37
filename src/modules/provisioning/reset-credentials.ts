import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertProvisioningAllowed, PROVISION_ROLES, type Actor } from './access.ts';
import { generateCredentials } from './credentials.ts';
import { loadClientUser } from './get-user.ts';
import { provisionedUsers } from './schema.ts';
import type { SipCredentials } from './views.ts';
import { notifyChange } from '../../db/changes.ts';

export interface ResetCredentialsOptions {
  actor: Actor;
  clientId: string;
  userId: string;
  requestId?: string | undefined;
}

/** §4.4/§6.2: rotates a user's SIP password; the new one is returned once, only its HA1s are kept. */
export async function resetCredentials(ctx: AppContext, opts: ResetCredentialsOptions): Promise<SipCredentials> {
  const realm = ctx.config.sip.domain;
  return ctx.db.transaction(async (tx) => {
    const user = await loadClientUser(tx, opts.actor, opts.clientId, opts.userId, PROVISION_ROLES);
    await assertProvisioningAllowed(tx, opts.clientId);
    const now = ctx.clock.now();
    const creds = generateCredentials(user.sipUsername, realm);
    await tx
      .update(provisionedUsers)
      .set({ sipRealm: realm, ha1Md5: creds.ha1Md5, ha1Sha256: creds.ha1Sha256, credentialsSetAt: now })
      .where(eq(provisionedUsers.id, user.id));
    // The SIP credential cache of this node forgets the old HA1 at once (the trigger tells the others at commit).
    await notifyChange(tx, 'sip_user', user.sipUsername);
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'user.credentials.reset',
      entity: 'user',
      entityId: user.id,
      clientId: opts.clientId,
      before: null,
      after: { sipUsername: user.sipUsername, credentialsSetAt: now.toISOString() },
      clause: '6.2',
      requestId: opts.requestId ?? null,
    });
    return { username: user.sipUsername, realm, password: creds.password };
  });
}
