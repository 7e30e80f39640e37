/**
 * Account views (issue #6): a client's own account — balance (RULES.md "balanceCents"),
 * credit, deposit, open invoices (with their open, guaranteed and late parts), payments
 * and dunning history (events with their clauses) — and, for staff, the ageing of
 * receivables across clients: open amounts by days past the due date (not yet due, 0–30,
 * 31–60, 61–90, 90+), on a local date.
 */
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { daysBetween, formatLocalInstant, type LocalDate } from '../../kernel/time.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { balanceCents } from '../billing/invoice-queries.ts';
import { invoices } from '../billing/schema.ts';
import { clients } from '../customers/schema.ts';
import { domainEvents } from '../events/schema.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { notFound } from '../../kernel/errors.ts';
import { depositOf, type DepositView } from './deposits.ts';
import { coveredByInvoice } from './guarantees.ts';
import { clientCreditCents, openAmountCents, openInvoices } from './ledger.ts';
import { toPaymentView, type PaymentView } from './record-payment.ts';
import { payments } from './schema.ts';

export const DUNNING_EVENT_TYPES = ['reminder', 'formal_notice', 'suspension', 'security_suspension', 'reactivation', 'termination_eligible', 'guarantee', 'guarantee_released', 'termination'] as const;

export interface ClientAccountView {
  clientId: string;
  serviceState: string;
  balanceCents: number;
  creditCents: number;
  deposit: DepositView;
  openInvoices: { number: string; issueDate: string; dueDate: string; totalInclVatCents: number; openCents: number; guaranteedCents: number; daysLate: number; structuredReference: string }[];
  payments: PaymentView[];
  dunning: { at: string; type: string; clause: string | null; details: Record<string, unknown> }[];
}

export async function clientAccount(db: DbOrTx, opts: { actor: AuditActor; clientId: string; today: LocalDate }): Promise<ClientAccountView> {
  if (opts.actor !== 'system') assertTenant(opts.actor, opts.clientId, { entity: 'client', entityId: opts.clientId });
  const [client] = await db.select({ id: clients.id, state: clients.serviceState }).from(clients).where(eq(clients.id, opts.clientId)).limit(1);
  if (!client) throw notFound('client', opts.clientId);
  const open = await openInvoices(db, opts.clientId);
  const covered = await coveredByInvoice(db, open.map((i) => i.id));
  const openViews = [];
  for (const inv of open) {
    openViews.push({
      number: inv.number,
      issueDate: inv.issueDate,
      dueDate: inv.dueDate,
      totalInclVatCents: inv.totalInclVatCents,
      openCents: await openAmountCents(db, inv),
      guaranteedCents: covered.get(inv.id) ?? 0,
      daysLate: Math.max(0, daysBetween(inv.dueDate, opts.today)),
      structuredReference: inv.structuredReference,
    });
  }
  const payRows = await db.select().from(payments).where(eq(payments.clientId, opts.clientId)).orderBy(desc(payments.paidAt), desc(payments.id));
  const events = await db
    .select()
    .from(domainEvents)
    .where(and(eq(domainEvents.clientId, opts.clientId), inArray(domainEvents.type, [...DUNNING_EVENT_TYPES])))
    .orderBy(asc(domainEvents.at), asc(domainEvents.id));
  return {
    clientId: opts.clientId,
    serviceState: client.state,
    balanceCents: await balanceCents(db, opts.clientId),
    creditCents: await clientCreditCents(db, opts.clientId),
    deposit: await depositOf(db, opts.clientId),
    openInvoices: openViews,
    payments: await Promise.all(payRows.map((r) => toPaymentView(db, r))),
    dunning: events.map((e) => ({ at: formatLocalInstant(e.at), type: e.type, clause: e.clause, details: e.details })),
  };
}

export interface AgeingBuckets {
  notDueCents: number;
  d0to30Cents: number;
  d31to60Cents: number;
  d61to90Cents: number;
  over90Cents: number;
  totalCents: number;
}

export interface AgeingView {
  asOf: LocalDate;
  totals: AgeingBuckets;
  clients: ({ clientId: string; name: string } & AgeingBuckets)[];
}

const emptyBuckets = (): AgeingBuckets => ({ notDueCents: 0, d0to30Cents: 0, d31to60Cents: 0, d61to90Cents: 0, over90Cents: 0, totalCents: 0 });

/** Which bucket `daysLate` (today − due date) falls in. */
export function ageingBucket(daysLate: number): keyof Omit<AgeingBuckets, 'totalCents'> {
  if (daysLate < 0) return 'notDueCents';
  if (daysLate <= 30) return 'd0to30Cents';
  if (daysLate <= 60) return 'd31to60Cents';
  if (daysLate <= 90) return 'd61to90Cents';
  return 'over90Cents';
}

export async function receivablesAgeing(db: DbOrTx, today: LocalDate): Promise<AgeingView> {
  const rows = await db
    .select({ inv: invoices, name: clients.name })
    .from(invoices)
    .innerJoin(clients, eq(clients.id, invoices.clientId))
    .where(and(eq(invoices.status, 'open'), eq(invoices.kind, 'invoice')))
    .orderBy(asc(clients.name), asc(invoices.issueDate));
  const per = new Map<string, { clientId: string; name: string } & AgeingBuckets>();
  const totals = emptyBuckets();
  for (const { inv, name } of rows) {
    const open = await openAmountCents(db, inv);
    if (open <= 0) continue;
    const bucket = ageingBucket(daysBetween(inv.dueDate, today));
    const c = per.get(inv.clientId) ?? { clientId: inv.clientId, name, ...emptyBuckets() };
    c[bucket] += open;
    c.totalCents += open;
    totals[bucket] += open;
    totals.totalCents += open;
    per.set(inv.clientId, c);
  }
  return { asOf: today, totals, clients: [...per.values()] };
}
