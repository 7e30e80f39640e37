/**
 * Brute-force limits on SIP authentication (RULES §4.4/§4.10): 10 failed
 * authentications from one source address within 5 minutes → that source is
 * refused for 15 minutes; 10 for one account (digest username) → the account is
 * locked for 15 minutes, even with the right password.
 *
 * A "failure" is what `Authenticator` reports through `onAuthFailure`: credentials
 * that do not verify (wrong password, unknown user, forged nonce, replay…). The
 * first challenge of a request that carried no credentials is not one.
 *
 * Shared by every SIP node: failures and blocks live in the database
 * (`sip_auth_failures`, `sip_blocks`); each node keeps the active blocks in memory,
 * refreshed every few seconds, so that the per-request check costs a map lookup and
 * no database work. A blocked request is answered 403 (chosen over silence so that
 * a misconfigured phone's owner sees why; the answer costs nothing).
 */
import { and, asc, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, DbOrTx } from '../db/client.ts';
import type { Clock } from '../kernel/clock.ts';
import { newId } from '../kernel/ids.ts';
import { recordEvent } from '../modules/events/index.ts';
import { type SipRequest, getHeaderValues, parseAuthorization } from '../sip/index.ts';
import type { AuthFailure } from './auth.ts';
import { sipAuthFailures, sipBlocks } from './brute-force-schema.ts';
import type { Directory } from './directory.ts';

export interface BruteForceLimits {
  /** Failures that trigger a block (10). */
  readonly failures: number;
  /** The counting window (5 minutes). */
  readonly windowMs: number;
  /** How long a block lasts (15 minutes). */
  readonly blockMs: number;
}

/** RULES §4.4/§4.10. */
export const BRUTE_FORCE_LIMITS: BruteForceLimits = { failures: 10, windowMs: 5 * 60_000, blockMs: 15 * 60_000 };

export type SipBlockKind = 'source' | 'account';

export interface SipBlock {
  readonly id: string;
  readonly kind: SipBlockKind;
  /** The source IP address, or the account's SIP username. */
  readonly key: string;
  readonly clientId: string | null;
  readonly reason: string | null;
  readonly blockedAt: Date;
  readonly until: Date;
  readonly liftedAt: Date | null;
  readonly liftedBy: string | null;
}

/** Why a request is refused before any other work. */
export interface SipRefusal {
  readonly kind: SipBlockKind;
  readonly key: string;
  readonly until: Date;
}

export interface SipBruteForceGuardOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  /** To name the client of a locked account in the event (optional). */
  readonly directory?: Pick<Directory, 'findSipCredentials'>;
  readonly limits?: BruteForceLimits;
  /** How often the active blocks are reloaded from the database while started (5 s). */
  readonly refreshMs?: number;
}

const cacheKey = (kind: SipBlockKind, key: string): string => `${kind}|${key}`;

/** The digest username a request claims (Authorization or Proxy-Authorization), parsed without any lookup. */
export function claimedUsername(req: Pick<SipRequest, 'headers'>): string | undefined {
  for (const name of ['Authorization', 'Proxy-Authorization']) {
    for (const value of getHeaderValues(req, name)) {
      const parsed = parseAuthorization(value);
      if (typeof parsed !== 'string') return parsed.username;
    }
  }
  return undefined;
}

export class SipBruteForceGuard {
  readonly limits: BruteForceLimits;
  /** Active blocks: cache key → until (ms) and when this node learnt it. */
  private readonly blocks = new Map<string, { until: number; learntAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private learnt = 0;

  constructor(private readonly o: SipBruteForceGuardOptions) {
    this.limits = o.limits ?? BRUTE_FORCE_LIMITS;
  }

  /**
   * The in-memory check done first on every request: the block that refuses it,
   * or undefined. A block ends exactly at its `until` instant.
   */
  check(req: SipRequest, sourceAddress: string): SipRefusal | undefined {
    // No block at all (the usual case): nothing to look up, no Authorization parsed (issue #4: every request passes here).
    if (this.blocks.size === 0) return undefined;
    const source = this.active('source', sourceAddress);
    if (source !== undefined) return source;
    const username = claimedUsername(req);
    return username === undefined ? undefined : this.active('account', username);
  }

  isSourceBlocked(address: string): boolean {
    return this.active('source', address) !== undefined;
  }

  isAccountLocked(username: string): boolean {
    return this.active('account', username) !== undefined;
  }

  /** The `Authenticator.onAuthFailure` hook: counts the failure per source and per account, blocks at the limit. */
  async onAuthFailure(failure: AuthFailure): Promise<void> {
    await this.count('source', failure.source.address, failure);
    if (failure.username !== undefined && failure.username !== '') await this.count('account', failure.username, failure);
  }

  /** Reloads the active blocks from the database (other nodes' blocks, lifts). */
  async refresh(): Promise<void> {
    const startedAt = ++this.learnt;
    const now = this.o.clock.now();
    const rows = await this.o.db
      .select({ kind: sipBlocks.kind, key: sipBlocks.key, until: sipBlocks.until })
      .from(sipBlocks)
      .where(and(gt(sipBlocks.until, now), isNull(sipBlocks.liftedAt)));
    // Keep what this node learnt while the query ran: it may not be in the result.
    const fresh = new Map<string, { until: number; learntAt: number }>();
    for (const [k, v] of this.blocks) if (v.learntAt > startedAt) fresh.set(k, v);
    for (const r of rows) {
      const k = cacheKey(r.kind, r.key);
      const until = Math.max(r.until.getTime(), fresh.get(k)?.until ?? 0);
      fresh.set(k, { until, learntAt: startedAt });
    }
    this.blocks.clear();
    for (const [k, v] of fresh) this.blocks.set(k, v);
  }

  /** Deletes failures older than the window (called with the bindings purge). */
  async purge(): Promise<void> {
    const before = new Date(this.o.clock.now().getTime() - this.limits.windowMs);
    await this.o.db.delete(sipAuthFailures).where(lt(sipAuthFailures.at, before));
  }

  /** Loads the blocks now, then every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.o.log.error({ err: e }, 'SIP block refresh failed'));
    }, this.o.refreshMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Forgets a block on this node at once (after `liftSipBlock`; other nodes follow on their next refresh). */
  forget(kind: SipBlockKind, key: string): void {
    this.blocks.delete(cacheKey(kind, key));
  }

  private active(kind: SipBlockKind, key: string): SipRefusal | undefined {
    const k = cacheKey(kind, key);
    const b = this.blocks.get(k);
    if (b === undefined) return undefined;
    if (this.o.clock.now().getTime() >= b.until) {
      this.blocks.delete(k);
      return undefined;
    }
    return { kind, key, until: new Date(b.until) };
  }

  /** Records one failure for `kind`/`key`; blocks when the window holds the limit. True when it blocked. */
  private async count(kind: SipBlockKind, key: string, failure: AuthFailure): Promise<boolean> {
    const now = this.o.clock.now();
    if (this.active(kind, key) !== undefined) return false;
    const clientId = await this.clientOf(failure.username);
    const block = await this.o.db.transaction(async (tx) => {
      // Serialised per key across nodes: one block, however many nodes count at once.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`sip_auth_failures|${kind}|${key}`}))`);
      const since = new Date(now.getTime() - this.limits.windowMs);
      const key_ = and(eq(sipAuthFailures.kind, kind), eq(sipAuthFailures.key, key));
      await tx.delete(sipAuthFailures).where(and(key_, lt(sipAuthFailures.at, since)));
      const existing = await tx
        .select({ until: sipBlocks.until })
        .from(sipBlocks)
        .where(and(eq(sipBlocks.kind, kind), eq(sipBlocks.key, key), gt(sipBlocks.until, now), isNull(sipBlocks.liftedAt)))
        .orderBy(desc(sipBlocks.until))
        .limit(1);
      if (existing[0] !== undefined) return { until: existing[0].until, fresh: false };
      await tx.insert(sipAuthFailures).values({ kind, key, at: now });
      const [row] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(sipAuthFailures)
        .where(and(key_, gt(sipAuthFailures.at, since)));
      if ((row?.n ?? 0) < this.limits.failures) return undefined;
      const until = new Date(now.getTime() + this.limits.blockMs);
      await tx.insert(sipBlocks).values({ id: newId(now), kind, key, clientId, reason: failure.reason, blockedAt: now, until });
      await tx.delete(sipAuthFailures).where(key_);
      await recordEvent(tx, {
        at: now,
        clientId,
        type: 'security_block',
        clause: '4.4',
        details: { kind, key, until: until.toISOString(), failures: this.limits.failures, windowMinutes: this.limits.windowMs / 60_000, lastReason: failure.reason },
      });
      return { until, fresh: true };
    });
    if (block === undefined) return false;
    this.blocks.set(cacheKey(kind, key), { until: block.until.getTime(), learntAt: ++this.learnt });
    if (!block.fresh) return false;
    this.o.log.warn(
      { event: kind === 'source' ? 'sip.source_blocked' : 'sip.account_locked', kind, key, clientId, until: block.until, clause: '4.4' },
      kind === 'source' ? 'SIP source blocked after repeated authentication failures' : 'SIP account locked after repeated authentication failures',
    );
    return true;
  }

  private async clientOf(username: string | undefined): Promise<string | null> {
    if (username === undefined || this.o.directory === undefined) return null;
    try {
      return (await this.o.directory.findSipCredentials(username))?.clientId ?? null;
    } catch {
      return null;
    }
  }
}

/** Blocks for staff: the active ones by default, or all of them (history) with `all`. */
export async function listSipBlocks(db: DbOrTx, now: Date, o: { all?: boolean; clientId?: string } = {}): Promise<SipBlock[]> {
  const where = [
    ...(o.all === true ? [] : [gt(sipBlocks.until, now), isNull(sipBlocks.liftedAt)]),
    ...(o.clientId === undefined ? [] : [eq(sipBlocks.clientId, o.clientId)]),
  ];
  return db
    .select()
    .from(sipBlocks)
    .where(and(...where))
    .orderBy(asc(sipBlocks.blockedAt), asc(sipBlocks.id));
}

/**
 * Lifts an active block before its end (staff): recorded with who and when, and a
 * `security_block_lifted` event. Every node drops it on its next refresh; pass the
 * local guard to drop it here at once. False when no active block has that id.
 */
export async function liftSipBlock(
  db: Db,
  id: string,
  o: { at: Date; by: string; guard?: SipBruteForceGuard },
): Promise<boolean> {
  const lifted = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(sipBlocks)
      .set({ liftedAt: o.at, liftedBy: o.by })
      .where(and(eq(sipBlocks.id, id), gt(sipBlocks.until, o.at), isNull(sipBlocks.liftedAt)))
      .returning();
    if (row === undefined) return undefined;
    await recordEvent(tx, {
      at: o.at,
      clientId: row.clientId,
      type: 'security_block_lifted',
      clause: '4.4',
      details: { kind: row.kind, key: row.key, by: o.by },
    });
    return row;
  });
  if (lifted === undefined) return false;
  o.guard?.forget(lifted.kind, lifted.key);
  return true;
}
