import { and, desc, eq, gt, lt, or, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { AppError, unauthenticated } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { toAccountView, type AccountView } from './account-view.ts';
import {
  ACCOUNT_LOOKBACK_MS,
  ACCOUNT_MAX_FAILURES,
  accountKey,
  accountLockedUntil,
  IP_MAX_FAILURES,
  IP_WINDOW_MS,
  ipKey,
  ipRefusedUntil,
} from './login-throttle.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { principalFor, type Principal } from './principal.ts';
import { accounts, loginFailures, sessions } from './schema.ts';
import { newSessionToken, sha256Hex } from './secrets.ts';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from './session-policy.ts';
import { verifyTotp } from './totp.ts';

export interface LoginOptions {
  email: string;
  password: string;
  totp?: string | undefined;
  ip: string;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export interface LoginResult {
  principal: Principal;
  account: AccountView;
  /** The cookie value; only its SHA-256 is stored. */
  sessionToken: string;
  expiresAt: Date;
}

/** Failure rows older than this are deleted when a key fails again (nothing reads them). */
const FAILURE_RETENTION_MS = 2 * ACCOUNT_LOOKBACK_MS;

// A hash verified when the account does not exist, so that an unknown e-mail costs the same time.
let dummyHash: Promise<string> | undefined;
const getDummyHash = (): Promise<string> => (dummyHash ??= hashPassword('not-a-real-password-' + newId()));

const throttled = (code: string, message: string, until: Date, now: Date): AppError =>
  new AppError('too_many_requests', {
    code,
    message,
    details: { retryAfterSeconds: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)) },
  });

async function recentFailures(ctx: AppContext, key: string, since: Date, limit: number): Promise<Date[]> {
  const rows = await ctx.db
    .select({ at: loginFailures.at })
    .from(loginFailures)
    .where(and(eq(loginFailures.key, key), gt(loginFailures.at, since)))
    .orderBy(desc(loginFailures.at))
    .limit(limit);
  return rows.map((r) => r.at);
}

/**
 * Password (+ TOTP for staff who enabled it) login. Answers the same INVALID_CREDENTIALS,
 * at the same cost, for an unknown e-mail, a disabled account or a wrong password.
 * Throttling (login-throttle.ts) is checked first and holds even with the right password.
 */
export async function login(ctx: AppContext, opts: LoginOptions): Promise<LoginResult> {
  const now = ctx.clock.now();
  const email = opts.email.trim().toLowerCase();
  const aKey = accountKey(email);
  const iKey = ipKey(opts.ip);

  const ipUntil = ipRefusedUntil(await recentFailures(ctx, iKey, new Date(now.getTime() - IP_WINDOW_MS), IP_MAX_FAILURES), now);
  if (ipUntil) throw throttled('TOO_MANY_ATTEMPTS', 'Too many failed logins from this address; try again later', ipUntil, now);

  const lockedUntil = accountLockedUntil(
    await recentFailures(ctx, aKey, new Date(now.getTime() - ACCOUNT_LOOKBACK_MS), ACCOUNT_MAX_FAILURES),
    now,
  );
  if (lockedUntil) {
    // The attempt still counts against the source address, not against the (locked) account.
    await ctx.db.insert(loginFailures).values({ id: newId(now), key: iKey, at: now });
    ctx.log.warn({ security: 'login.locked', email, ip: opts.ip }, 'login refused: account locked');
    throw throttled('ACCOUNT_LOCKED', 'Too many failed logins for this account; it is locked for a while', lockedUntil, now);
  }

  const [account] = await ctx.db.select().from(accounts).where(sql`lower(${accounts.email}) = ${email}`).limit(1);
  const passwordOk = await verifyPassword(opts.password, account?.passwordHash ?? (await getDummyHash()));

  const fail = async (code: 'INVALID_CREDENTIALS' | 'INVALID_TOTP', message: string): Promise<never> => {
    await ctx.db.transaction(async (tx) => {
      await tx.insert(loginFailures).values([
        { id: newId(now), key: aKey, at: now },
        { id: newId(now), key: iKey, at: now },
      ]);
      await tx
        .delete(loginFailures)
        .where(and(or(eq(loginFailures.key, aKey), eq(loginFailures.key, iKey)), lt(loginFailures.at, new Date(now.getTime() - FAILURE_RETENTION_MS))));
    });
    const nowLocked = accountLockedUntil(
      await recentFailures(ctx, aKey, new Date(now.getTime() - ACCOUNT_LOOKBACK_MS), ACCOUNT_MAX_FAILURES),
      now,
    );
    ctx.log.warn({ security: 'login.failed', code, email, ip: opts.ip, locked: nowLocked !== null }, 'login failed');
    if (account && nowLocked) {
      await recordAudit(ctx.db, {
        at: now,
        actor: 'system',
        action: 'account.lock',
        entity: 'account',
        entityId: account.id,
        clientId: account.clientId,
        before: null,
        after: { lockedUntil: nowLocked, ip: opts.ip, reason: `${ACCOUNT_MAX_FAILURES} failed logins` },
        requestId: opts.requestId ?? null,
      });
    }
    throw unauthenticated(message, code);
  };

  if (!account || !account.passwordHash || account.disabledAt !== null || !passwordOk) {
    return fail('INVALID_CREDENTIALS', 'Wrong e-mail or password');
  }

  let totpStep: number | null = null;
  if (account.totpEnabled && account.totpSecret) {
    if (opts.totp === undefined || opts.totp === '') {
      throw unauthenticated('A one-time code from the authenticator app is required', 'MFA_REQUIRED');
    }
    totpStep = verifyTotp(account.totpSecret, opts.totp, now, account.totpLastStep);
    if (totpStep === null) return fail('INVALID_TOTP', 'Wrong or already used one-time code');
  }

  const token = newSessionToken();
  const sessionId = sha256Hex(token);
  const expiresAt = new Date(now.getTime() + SESSION_ABSOLUTE_MS);
  const updated = await ctx.db.transaction(async (tx) => {
    await tx.delete(loginFailures).where(eq(loginFailures.key, aKey));
    // Drop this account's dead sessions while we are here.
    await tx
      .delete(sessions)
      .where(
        and(
          eq(sessions.accountId, account.id),
          or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, new Date(now.getTime() - SESSION_IDLE_MS))),
        ),
      );
    await tx.insert(sessions).values({
      id: sessionId,
      accountId: account.id,
      createdAt: now,
      expiresAt,
      lastSeenAt: now,
      ip: opts.ip,
      userAgent: opts.userAgent?.slice(0, 512) ?? null,
    });
    const [row] = await tx
      .update(accounts)
      .set({ lastLoginAt: now, ...(totpStep !== null ? { totpLastStep: totpStep } : {}) })
      .where(eq(accounts.id, account.id))
      .returning();
    const principal = principalFor(row!, 'session', { sessionId });
    await recordAudit(tx, {
      at: now,
      actor: principal,
      action: 'auth.login',
      entity: 'account',
      entityId: account.id,
      clientId: account.clientId,
      before: null,
      after: { ip: opts.ip, mfa: totpStep !== null },
      requestId: opts.requestId ?? null,
    });
    return { row: row!, principal };
  });
  return { principal: updated.principal, account: toAccountView(updated.row), sessionToken: token, expiresAt };
}
