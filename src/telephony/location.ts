/**
 * The location service over `sip_bindings` (RFC 3261 §10.3): applies a REGISTER's
 * contacts atomically, lists the live bindings of an address-of-record, purges
 * the dead ones. Times come from the caller (the injected clock).
 */
import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client.ts';
import { newId } from '../kernel/ids.ts';
import { parseUri, uriEquals } from '../sip/index.ts';
import { sipBindings } from './schema.ts';

export type Binding = typeof sipBindings.$inferSelect;

/** The address-of-record of a SIP user in our domain. */
export const aorFor = (username: string, domain: string): string => `sip:${username}@${domain}`;

/** The live bindings of an address-of-record, highest q first then most recent. */
export async function activeBindings(db: DbOrTx, aor: string, now: Date): Promise<Binding[]> {
  return db
    .select()
    .from(sipBindings)
    .where(and(eq(sipBindings.aor, aor), gt(sipBindings.expiresAt, now)))
    .orderBy(sql`${sipBindings.q} desc`, sql`${sipBindings.updatedAt} desc`, asc(sipBindings.id));
}

/** The live bindings of a user (every AOR), as the call router forks to them. */
export async function userBindings(db: DbOrTx, clientId: string, userId: string, now: Date): Promise<Binding[]> {
  return db
    .select()
    .from(sipBindings)
    .where(and(eq(sipBindings.clientId, clientId), eq(sipBindings.userId, userId), gt(sipBindings.expiresAt, now)))
    .orderBy(sql`${sipBindings.q} desc`, sql`${sipBindings.updatedAt} desc`, asc(sipBindings.id));
}

/** Deletes the bindings expired at `now`; returns how many. */
export async function purgeExpiredBindings(db: DbOrTx, now: Date): Promise<number> {
  const gone = await db.delete(sipBindings).where(lte(sipBindings.expiresAt, now)).returning({ id: sipBindings.id });
  return gone.length;
}

export interface ContactUpdate {
  /** The Contact URI, formatted. */
  readonly uri: string;
  /** Seconds, already bounded by the registrar; 0 removes the binding. */
  readonly expires: number;
  readonly q: number;
}

export interface RegisterUpdate {
  readonly aor: string;
  readonly clientId: string;
  readonly userId: string;
  readonly callId: string;
  readonly cseq: number;
  /** `Contact: *` with Expires 0: remove every binding. */
  readonly removeAll: boolean;
  readonly contacts: readonly ContactUpdate[];
  readonly source: { readonly address: string; readonly port: number; readonly transport: string };
  readonly userAgent: string | null;
  /** Most live bindings the AOR may hold after the update. */
  readonly maxBindings: number;
}

export type RegisterOutcome =
  | { readonly kind: 'ok'; readonly bindings: Binding[] }
  /** §10.3 step 7: same Call-ID with a CSeq not higher than the binding's. */
  | { readonly kind: 'out-of-order'; readonly contact: string }
  | { readonly kind: 'too-many' };

const sameContact = (a: string, b: string): boolean => {
  if (a === b) return true;
  const x = parseUri(a);
  const y = parseUri(b);
  return x.ok && y.ok && uriEquals(x.value, y.value);
};

class TooMany extends Error {}

class OutOfOrder extends Error {
  constructor(readonly contact: string) {
    super('out of order');
  }
}

/**
 * RFC 3261 §10.3 steps 6–8 in one transaction (all updates or none), serialised
 * per address-of-record across nodes by an advisory lock; expired bindings of
 * the AOR are purged on the way.
 */
export async function applyRegister(db: Db, u: RegisterUpdate, now: Date): Promise<RegisterOutcome> {
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`sip_bindings|${u.aor}`}))`);
      await tx.delete(sipBindings).where(and(eq(sipBindings.aor, u.aor), lte(sipBindings.expiresAt, now)));
      const existing = await tx.select().from(sipBindings).where(eq(sipBindings.aor, u.aor));
      const newer = (b: Binding): boolean => b.callId !== u.callId || u.cseq > b.cseq;
      if (u.removeAll) {
        const stale = existing.find((b) => !newer(b));
        if (stale) throw new OutOfOrder(stale.contactUri);
        await tx.delete(sipBindings).where(eq(sipBindings.aor, u.aor));
      } else {
        for (const c of u.contacts) {
          const found = existing.find((b) => sameContact(b.contactUri, c.uri));
          if (found && !newer(found)) throw new OutOfOrder(found.contactUri);
          if (c.expires === 0) {
            if (found) await tx.delete(sipBindings).where(eq(sipBindings.id, found.id));
            continue;
          }
          const values = {
            contactUri: c.uri,
            sourceAddress: u.source.address,
            sourcePort: u.source.port,
            sourceTransport: u.source.transport,
            callId: u.callId,
            cseq: u.cseq,
            expiresAt: new Date(now.getTime() + c.expires * 1000),
            q: c.q,
            userAgent: u.userAgent,
            updatedAt: now,
          };
          if (found) {
            await tx.update(sipBindings).set(values).where(eq(sipBindings.id, found.id));
          } else {
            const row = { id: newId(now), clientId: u.clientId, userId: u.userId, aor: u.aor, createdAt: now, ...values };
            await tx.insert(sipBindings).values(row);
            existing.push(row);
          }
        }
      }
      const bindings = await activeBindings(tx, u.aor, now);
      if (bindings.length > u.maxBindings) throw new TooMany('too many bindings');
      return { kind: 'ok', bindings };
    });
  } catch (e) {
    if (e instanceof OutOfOrder) return { kind: 'out-of-order', contact: e.contact };
    if (e instanceof TooMany) return { kind: 'too-many' };
    throw e;
  }
}
