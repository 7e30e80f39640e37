/**
 * §9.3 bank guarantees: a client disputing an invoice amount (alleged defects) registers
 * a bank guarantee covering it; an overdue amount covered by a guarantee triggers no
 * reminder, fee, formal notice or suspension (RULES.md "Dunning and suspension"). When the
 * guarantee leaves nothing overdue uncovered, a dunning suspension is lifted at once.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { DbOrTx } from '../../db/client.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { invoices } from '../billing/schema.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { recordEvent } from '../events/index.ts';
import { reactivateIfSettled } from './reactivation.ts';
import { guarantees } from './schema.ts';

/** Cents of an invoice covered by active guarantees. */
export async function coveredCents(db: DbOrTx, invoiceId: string): Promise<number> {
  const [row] = await db
    .select({ s: sql<string>`coalesce(sum(${guarantees.amountCents}), 0)` })
    .from(guarantees)
    .where(and(eq(guarantees.invoiceId, invoiceId), isNull(guarantees.releasedAt)));
  return Number(row?.s ?? 0);
}

/** Covered cents per invoice, for many invoices. */
export async function coveredByInvoice(db: DbOrTx, invoiceIds: readonly string[]): Promise<Map<string, number>> {
  if (invoiceIds.length === 0) return new Map();
  const rows = await db
    .select({ invoiceId: guarantees.invoiceId, s: sql<string>`sum(${guarantees.amountCents})` })
    .from(guarantees)
    .where(and(inArray(guarantees.invoiceId, [...invoiceIds]), isNull(guarantees.releasedAt)))
    .groupBy(guarantees.invoiceId);
  return new Map(rows.map((r) => [r.invoiceId, Number(r.s)]));
}

export interface GuaranteeView {
  id: string;
  clientId: string;
  invoiceNumber: string;
  amountCents: number;
  reference: string | null;
  registeredAt: string;
}

export interface RegisterGuaranteeOptions {
  actor: AuditActor;
  /** The disputed invoice, by number. */
  invoiceNumber: string;
  /** When given, must be the invoice's client (tenancy). */
  clientId?: string | undefined;
  amountCents: number;
  reference?: string | undefined;
  requestId?: string | undefined;
}

/** §9.3: registers a bank guarantee on a disputed invoice (staff). */
export async function registerGuarantee(ctx: AppContext, opts: RegisterGuaranteeOptions): Promise<GuaranteeView> {
  if (!Number.isSafeInteger(opts.amountCents) || opts.amountCents <= 0) throw validationError('/amount', 'a positive amount in cents');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [inv] = await tx.select().from(invoices).where(eq(invoices.number, opts.invoiceNumber)).limit(1);
    if (!inv || inv.kind !== 'invoice' || (opts.clientId !== undefined && inv.clientId !== opts.clientId)) throw notFound('invoice', opts.invoiceNumber);
    if (opts.actor !== 'system') assertTenant(opts.actor, inv.clientId, { entity: 'invoice', entityId: inv.id });
    const row = { id: newId(now), clientId: inv.clientId, invoiceId: inv.id, amountCents: opts.amountCents, reference: opts.reference ?? null, registeredAt: now };
    await tx.insert(guarantees).values(row);
    const view: GuaranteeView = { id: row.id, clientId: row.clientId, invoiceNumber: inv.number, amountCents: row.amountCents, reference: row.reference, registeredAt: now.toISOString() };
    await recordEvent(tx, { at: now, clientId: inv.clientId, type: 'guarantee', clause: '9.3', details: { invoice: inv.number, amountCents: opts.amountCents } });
    await recordAudit(tx, { at: now, actor: opts.actor, action: 'guarantee.register', entity: 'invoice', entityId: inv.id, clientId: inv.clientId, before: null, after: view, clause: '9.3', requestId: opts.requestId ?? null });
    await reactivateIfSettled(tx, inv.clientId, now, { guaranteeId: row.id });
    return view;
  });
}

/** §9.3: the dispute is over — the guarantee is released; from the next daily evaluation the amount is dunned again if still open. */
export async function releaseGuarantee(ctx: AppContext, opts: { actor: AuditActor; clientId: string; guaranteeId: string; reason?: string | undefined; requestId?: string | undefined }): Promise<GuaranteeView & { releasedAt: string }> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [g] = await tx.select().from(guarantees).where(and(eq(guarantees.id, opts.guaranteeId), eq(guarantees.clientId, opts.clientId))).for('update');
    if (!g || g.releasedAt !== null) throw notFound('guarantee', opts.guaranteeId);
    if (opts.actor !== 'system') assertTenant(opts.actor, g.clientId, { entity: 'guarantee', entityId: g.id });
    await tx.update(guarantees).set({ releasedAt: now }).where(eq(guarantees.id, g.id));
    const [inv] = await tx.select({ number: invoices.number }).from(invoices).where(eq(invoices.id, g.invoiceId));
    const view = { id: g.id, clientId: g.clientId, invoiceNumber: inv?.number ?? '', amountCents: g.amountCents, reference: g.reference, registeredAt: g.registeredAt.toISOString(), releasedAt: now.toISOString() };
    await recordEvent(tx, { at: now, clientId: g.clientId, type: 'guarantee_released', clause: '9.3', details: { invoice: view.invoiceNumber, amountCents: g.amountCents, reason: opts.reason ?? null } });
    await recordAudit(tx, { at: now, actor: opts.actor, action: 'guarantee.release', entity: 'invoice', entityId: g.invoiceId, clientId: g.clientId, before: { releasedAt: null }, after: { ...view, reason: opts.reason ?? null }, clause: '9.3', requestId: opts.requestId ?? null });
    return view;
  });
}
