import { and, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { mainNumber, userNumber } from './caller-id.ts';
import { phoneNumbers, provisionedUsers } from './schema.ts';

/**
 * The directory the SIP registrar and call router read (implementation of the telephony
 * interface). Only current users; the realm is the one the HA1s were computed with.
 */
export interface SipCredentialsRecord {
  userId: string;
  clientId: string;
  extension: string;
  username: string;
  realm: string;
  ha1Md5: string;
  ha1Sha256: string;
}

export interface DirectoryUser {
  userId: string;
  clientId: string;
  extension: string;
  username: string;
  displayName: string | null;
  site: string | null;
}

/** A user's SIP credentials by username (`<extension>.<client code>`); null when unknown or deleted. */
export async function findSipCredentials(db: DbOrTx, username: string): Promise<SipCredentialsRecord | null> {
  const [u] = await db
    .select()
    .from(provisionedUsers)
    .where(and(eq(provisionedUsers.sipUsername, username), isNull(provisionedUsers.deletedAt)));
  if (!u) return null;
  return {
    userId: u.id,
    clientId: u.clientId,
    extension: u.extension,
    username: u.sipUsername,
    realm: u.sipRealm,
    ha1Md5: u.ha1Md5,
    ha1Sha256: u.ha1Sha256,
  };
}

/** A current user of the client by extension; null when none. */
export async function findUserByExtension(db: DbOrTx, clientId: string, extension: string): Promise<DirectoryUser | null> {
  const [u] = await db
    .select()
    .from(provisionedUsers)
    .where(and(eq(provisionedUsers.clientId, clientId), eq(provisionedUsers.extension, extension), isNull(provisionedUsers.deletedAt)));
  if (!u) return null;
  return { userId: u.id, clientId: u.clientId, extension: u.extension, username: u.sipUsername, displayName: u.displayName, site: u.site };
}

/**
 * Where an inbound call to `e164` goes: an assigned number → its user, else (no user) the
 * target of the client's main number (its user, or null = the client without a user).
 * null when the number is not assigned to anyone.
 */
export async function findDidTarget(db: DbOrTx, e164: string): Promise<{ clientId: string; userId: string | null } | null> {
  const [n] = await db
    .select()
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.number, e164), eq(phoneNumbers.state, 'assigned')));
  if (!n?.clientId) return null;
  if (n.userId) return { clientId: n.clientId, userId: n.userId };
  const main = await mainNumber(db, n.clientId);
  if (main && main !== e164) {
    const [m] = await db.select({ userId: phoneNumbers.userId }).from(phoneNumbers).where(eq(phoneNumbers.number, main));
    return { clientId: n.clientId, userId: m?.userId ?? null };
  }
  return { clientId: n.clientId, userId: null };
}

/** The caller's true identity (RULES "Main number and caller ID"): the user's own number, else the client's main number. */
export async function findCallerIdentity(db: DbOrTx, clientId: string, userId: string): Promise<string | null> {
  return (await userNumber(db, userId)) ?? (await mainNumber(db, clientId));
}
