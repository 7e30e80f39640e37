/**
 * HTTP test harness: one migrated database and one platform per test file (beforeAll),
 * tests isolate themselves by creating their own clients and accounts.
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { createPlatform, type Platform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { newId } from '../../src/kernel/ids.ts';
import { SimulatedClock } from '../../src/kernel/clock.ts';
import { issueInvoice } from '../../src/modules/billing/issue-invoice.ts';
import { clients } from '../../src/modules/customers/schema.ts';
import { hashPassword, type PasswordCost } from '../../src/modules/identity/password.ts';
import { accounts, type Role } from '../../src/modules/identity/schema.ts';
import { migratedTestDatabase, type DbKind } from '../support/db.ts';

/** Seeded test accounts hash with a cheap scrypt: verification reads the cost from the hash. */
export const FAST_COST: PasswordCost = { N: 1024, r: 8, p: 1 };

export interface Harness {
  platform: Platform;
  clock: SimulatedClock;
  close(): Promise<void>;
}

export async function startHarness(kind: DbKind, opts: { publicUrl?: string } = {}): Promise<Harness> {
  const created = await migratedTestDatabase(kind);
  const clock = new SimulatedClock('2027-03-01T09:00:00Z');
  const config = loadConfig({ E2P_LOG_LEVEL: 'silent', ...(opts.publicUrl ? { E2P_PUBLIC_URL: opts.publicUrl } : {}) }, '/tmp');
  const platform = await createPlatform(config, { database: created.database, clock });
  return {
    platform,
    clock,
    async close() {
      await platform.close();
      await created.drop();
    },
  };
}

export const uniqueEmail = (label: string): string => `${label}-${randomBytes(5).toString('hex')}@example.test`;

export async function seedClient(h: Harness, name = 'Client'): Promise<string> {
  const id = newId(h.clock.now());
  await h.platform.ctx.db.insert(clients).values({ id, name: `${name} ${id.slice(-6)}`, createdAt: h.clock.now() });
  return id;
}

export interface Seeded {
  id: string;
  email: string;
  password: string;
  role: Role;
  clientId: string | null;
}

export async function seedAccount(h: Harness, role: Role, clientId: string | null = null, label: string = role): Promise<Seeded> {
  const email = uniqueEmail(label);
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const id = newId(h.clock.now());
  await h.platform.ctx.db.insert(accounts).values({
    id,
    email,
    name: label,
    role,
    clientId,
    passwordHash: await hashPassword(password, FAST_COST),
    createdAt: h.clock.now(),
  });
  return { id, email, password, role, clientId };
}

export interface Call {
  cookie?: string | undefined;
  token?: string | undefined;
  body?: unknown;
  ip?: string;
  headers?: Record<string, string>;
}

export async function call(h: Harness, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, c: Call = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.cookie) headers.cookie = c.cookie;
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  return h.platform.http.inject({
    method,
    url,
    headers,
    ...(c.body !== undefined ? { payload: c.body as Record<string, unknown> } : {}),
    ...(c.ip ? { remoteAddress: c.ip } : {}),
  });
}

/** `e2p_session=…` from a login answer. */
export function sessionCookie(res: LightMyRequestResponse): string {
  const c = res.cookies.find((x) => x.name === 'e2p_session');
  if (!c) throw new Error(`no session cookie (status ${res.statusCode}: ${res.body})`);
  return `e2p_session=${c.value}`;
}

let ipCounter = 1;
/** A distinct source address per test, so the per-IP throttle of one test never bleeds into another. */
export const freshIp = (): string => `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter++ & 255}`;

export async function loginAs(h: Harness, who: { email: string; password: string }, extra: { totp?: string; ip?: string } = {}): Promise<string> {
  const res = await call(h, 'POST', '/api/v1/auth/login', {
    body: { email: who.email, password: who.password, ...(extra.totp ? { totp: extra.totp } : {}) },
    ip: extra.ip ?? freshIp(),
  });
  if (res.statusCode !== 200) throw new Error(`login failed ${res.statusCode}: ${res.body}`);
  return sessionCookie(res);
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of the JSON body
export const json = <T = Record<string, unknown>>(res: LightMyRequestResponse): T => res.json<T>();

/** An issued invoice of one ACTIVATION one-off (49.00 € + 21 % VAT = 59.29 €) for `clientId`. */
export async function seedActivationInvoice(h: Harness, clientId: string): Promise<void> {
  await h.platform.ctx.db.transaction((tx) =>
    issueInvoice(tx, {
      clientId,
      runKey: 'test:1',
      at: h.clock.now(),
      clause: '8.1',
      lines: [{ type: 'one_off', productCode: 'ACTIVATION', zone: null, quantity: 1, periodStart: null, periodEnd: null, amountCents: 4900, vatRate: 21, clause: '8.1' }],
    }),
  );
}
