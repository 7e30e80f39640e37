/**
 * §5.3 deposits: staff require a deposit (`clients.deposit_cents`, set on the client) and
 * record the money received (or refunded); it earns no interest. §9.1b: with a deposit,
 * dunning suspends only when the total overdue debt exceeds it. At termination the
 * deposit held is offset against the client's open invoices (oldest first, the final
 * invoice included) as a payment `matchedBy: deposit`; what is left stays held for refund.
 */
import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { DbOrTx } from '../../db/client.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { clients } from '../customers/schema.ts';
import { openAmountCents, openInvoices } from './ledger.ts';
import { applyPayment, lockClient } from './record-payment.ts';
import { depositMovements, payments } from './schema.ts';

export interface DepositView {
  requiredCents: number;
  receivedCents: number;
  offsetCents: number;
  refundedCents: number;
  heldCents: number;
}

export async function depositOf(db: DbOrTx, clientId: string): Promise<DepositView> {
  const [client] = await db.select({ required: clients.depositCents }).from(clients).where(eq(clients.id, clientId)).limit(1);
  const rows = await db
    .select({ kind: depositMovements.kind, s: sql<string>`sum(${depositMovements.amountCents})` })
    .from(depositMovements)
    .where(eq(depositMovements.clientId, clientId))
    .groupBy(depositMovements.kind);
  const sum = (k: string): number => Number(rows.find((r) => r.kind === k)?.s ?? 0);
  const [received, offset, refunded] = [sum('received'), sum('offset'), sum('refunded')];
  return { requiredCents: client?.required ?? 0, receivedCents: received, offsetCents: offset, refundedCents: refunded, heldCents: received - offset - refunded };
}

export async function recordDepositMovement(ctx: AppContext, opts: { actor: AuditActor; clientId: string; kind: 'received' | 'refunded'; amountCents: number; note?: string | undefined; requestId?: string | undefined }): Promise<DepositView> {
  if (!Number.isSafeInteger(opts.amountCents) || opts.amountCents <= 0) throw validationError('/amount', 'a positive amount in cents');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [client] = await tx.select({ id: clients.id }).from(clients).where(eq(clients.id, opts.clientId)).limit(1);
    if (!client) throw notFound('client', opts.clientId);
    await lockClient(tx, opts.clientId);
    const before = await depositOf(tx, opts.clientId);
    if (opts.kind === 'refunded' && opts.amountCents > before.heldCents) throw validationError('/amount', `only ${before.heldCents} cents of deposit are held`);
    await tx.insert(depositMovements).values({ id: newId(now), clientId: opts.clientId, kind: opts.kind, amountCents: opts.amountCents, at: now, note: opts.note ?? null });
    const after = await depositOf(tx, opts.clientId);
    await recordAudit(tx, { at: now, actor: opts.actor, action: `deposit.${opts.kind}`, entity: 'client', entityId: opts.clientId, clientId: opts.clientId, before, after: { ...after, note: opts.note ?? null }, clause: '5.3', requestId: opts.requestId ?? null });
    return after;
  });
}

/** §5.3 at termination: offsets the deposit held against the open invoices, oldest first. */
export async function offsetDeposit(tx: DbOrTx, clientId: string, at: Date): Promise<number> {
  const held = (await depositOf(tx, clientId)).heldCents;
  if (held <= 0) return 0;
  const open = await openInvoices(tx, clientId);
  let owed = 0;
  for (const inv of open) owed += await openAmountCents(tx, inv);
  const amount = Math.min(held, owed);
  if (amount <= 0) return 0;
  await lockClient(tx, clientId);
  const paymentId = newId(at);
  await tx.insert(payments).values({ id: paymentId, externalId: null, clientId, amountCents: amount, paidAt: at, reference: null, invoiceNumber: null, payerIban: null, matchedBy: 'deposit', recordedAt: at });
  await applyPayment(tx, paymentId, amount, open, at);
  await tx.insert(depositMovements).values({ id: newId(at), clientId, kind: 'offset', amountCents: amount, at, paymentId, note: 'offset at termination' });
  await recordAudit(tx, { at, actor: 'system', action: 'deposit.offset', entity: 'client', entityId: clientId, clientId, before: { heldCents: held }, after: { offsetCents: amount, heldCents: held - amount, paymentId }, clause: '5.3' });
  return amount;
}
