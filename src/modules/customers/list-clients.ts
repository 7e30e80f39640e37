import { and, asc, eq, gt, ilike, like, or, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import type { Principal } from '../identity/principal.ts';
import { scopeClientId } from '../identity/tenancy.ts';
import { toClientView, type ClientView } from './client-view.ts';
import { clients } from './schema.ts';

export const CLIENT_PAGE_MAX = 200;

export interface ListClientsOptions {
  /** `system`: the operator's shell on the server (CLI) sees every client. */
  principal: Principal | 'system';
  /** Keyset cursor: clients with a greater id (ids are UUIDv7, so creation order). */
  after?: string | undefined;
  limit?: number | undefined;
  /** Search: part of the name / legal name, or digits of the enterprise number. */
  q?: string | undefined;
}

/** Staff: every client; a client principal: only its own. */
export async function listClients(db: DbOrTx, opts: ListClientsOptions): Promise<{ items: ClientView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), CLIENT_PAGE_MAX);
  const where: SQL[] = [];
  const tenant = opts.principal === 'system' ? undefined : scopeClientId(opts.principal, undefined);
  if (tenant !== undefined) where.push(eq(clients.id, tenant));
  if (opts.after !== undefined) where.push(gt(clients.id, opts.after));
  const q = opts.q?.trim();
  if (q) {
    const pattern = `%${escapeLike(q)}%`;
    const match: SQL[] = [ilike(clients.name, pattern), ilike(clients.legalName, pattern)];
    const digits = q.replace(/^BE/i, '').replace(/\D/g, '');
    if (digits.length >= 3) match.push(like(clients.enterpriseNumber, `%${digits}%`));
    where.push(or(...match)!);
  }
  const rows = await db.select().from(clients).where(and(...where)).orderBy(asc(clients.id)).limit(limit + 1);
  const page = rows.slice(0, limit);
  return { items: page.map(toClientView), nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);
