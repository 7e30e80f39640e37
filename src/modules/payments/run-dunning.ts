/**
 * The daily dunning evaluation (RULES.md "Dunning and suspension"), at 00:00 local before
 * the billing run: per client with an overdue open invoice, in one transaction — the
 * reminders, fee and formal notice due (dunning-policy.ts, the policy in force:
 * dunning-settings.ts), then the suspension to
 * minimum service (§9.1a/b, §8.7); and §12.2a termination eligibility after 1 month
 * suspended. Every step is recorded once (unique per invoice and step): a rerun is a no-op.
 */
import { and, eq, isNull, lt, ne, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { localDate } from '../../kernel/time.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { invoices } from '../billing/schema.ts';
import { clients } from '../customers/schema.ts';
import { serviceStateOf, setServiceState } from '../customers/service-state.ts';
import { recordEvent } from '../events/index.ts';
import { DEFAULT_DUNNING_POLICY, daysLate, dunningStepsDue, suspensionDue, suspensionDayOf, terminationEligibleOn, type DunningPolicy, type OverdueInvoice } from './dunning-policy.ts';
import { dunningPolicyOf } from './dunning-settings.ts';
import { coveredCents } from './guarantees.ts';
import { openAmountCents, openInvoices } from './ledger.ts';
import { openSuspension } from './reactivation.ts';
import { dunningNotices, pendingItems, suspensions, type DunningStep } from './schema.ts';

export { openSuspension } from './reactivation.ts';

/** Dunning of one client at `at` (00:00 local of the evaluation day) under `policy`. */
export async function dunClient(tx: DbOrTx, clientId: string, at: Date, policy: Readonly<DunningPolicy> = DEFAULT_DUNNING_POLICY): Promise<void> {
  const today = localDate(at);
  const overdue: OverdueInvoice[] = [];
  for (const inv of await openInvoices(tx, clientId)) {
    if (daysLate(inv.dueDate, today) <= 0) continue;
    const open = await openAmountCents(tx, inv);
    if (open <= 0) continue;
    // §9.3: the part covered by a bank guarantee triggers nothing.
    const covered = Math.min(open, await coveredCents(tx, inv.id));
    const takenRows = await tx.select({ step: dunningNotices.step }).from(dunningNotices).where(eq(dunningNotices.invoiceId, inv.id));
    const taken = new Set<DunningStep>(takenRows.map((r) => r.step));
    for (const action of dunningStepsDue({ dueDate: inv.dueDate, today, taken, covered: open - covered <= 0 }, policy)) {
      await tx.insert(dunningNotices).values({ invoiceId: inv.id, clientId, step: action.step, at });
      taken.add(action.step);
      const details: Record<string, unknown> = { invoice: inv.number, daysLate: daysLate(inv.dueDate, today), openCents: open, ...(covered > 0 ? { coveredCents: covered } : {}) };
      if (action.event === 'reminder') details.reminder = action.step === 'reminder_1' ? 1 : 2;
      if (action.step === 'formal_notice') details.suspensionOn = suspensionDayOf(inv.dueDate, policy);
      if (action.feeCents > 0) {
        details.feeCents = action.feeCents;
        await tx
          .insert(pendingItems)
          .values({
            id: newId(at),
            clientId,
            type: 'reminder_fee',
            sourceInvoiceId: inv.id,
            amountCents: action.feeCents,
            description: `Frais de rappel — facture ${inv.number}`,
            clause: action.clause,
            createdAt: at,
          })
          .onConflictDoNothing();
      }
      await recordEvent(tx, { at, clientId, type: action.event, clause: action.clause, details });
      await recordAudit(tx, { at, actor: 'system', action: `dunning.${action.step}`, entity: 'invoice', entityId: inv.id, clientId, before: null, after: details, clause: action.clause });
    }
    overdue.push({ dueDate: inv.dueDate, openCents: open, coveredCents: covered, reminded: taken.has('reminder_1') || taken.has('reminder_2') });
  }

  if ((await serviceStateOf(tx, clientId)) !== 'active' || (await openSuspension(tx, clientId)) !== null) return;
  const [client] = await tx.select({ deposit: clients.depositCents }).from(clients).where(eq(clients.id, clientId)).limit(1);
  const decision = suspensionDue({ today, overdue, depositCents: client?.deposit ?? 0 }, policy);
  if (decision === null) return;
  await tx.insert(suspensions).values({ id: newId(at), clientId, clause: decision.clause, suspendedAt: at, suspendedOn: today });
  await setServiceState(tx, clientId, 'minimum_service');
  await recordEvent(tx, { at, clientId, type: 'suspension', clause: decision.clause, details: { serviceState: 'minimum_service', overdueCents: decision.overdueCents, reason: 'dunning' } });
  await recordAudit(tx, {
    at,
    actor: 'system',
    action: 'client.suspend',
    entity: 'client',
    entityId: clientId,
    clientId,
    before: { serviceState: 'active' },
    after: { serviceState: 'minimum_service', overdueCents: decision.overdueCents },
    clause: decision.clause,
  });
}

/** §12.2a: suspensions to minimum service (§9.1a/b/c; not §9.2 security) 1 month old make the client eligible for termination (staff decide). */
async function markTerminationEligible(tx: DbOrTx, at: Date, policy: Readonly<DunningPolicy>): Promise<void> {
  const today = localDate(at);
  const open = await tx
    .select()
    .from(suspensions)
    .where(and(isNull(suspensions.reactivatedAt), isNull(suspensions.terminationEligibleAt), ne(suspensions.clause, '9.2')));
  for (const s of open) {
    if (terminationEligibleOn(s.suspendedOn, policy) > today) continue;
    await tx.update(suspensions).set({ terminationEligibleAt: at }).where(eq(suspensions.id, s.id));
    await recordEvent(tx, { at, clientId: s.clientId, type: 'termination_eligible', clause: '12.2a', details: { suspendedOn: s.suspendedOn } });
    await recordAudit(tx, { at, actor: 'system', action: 'client.termination_eligible', entity: 'client', entityId: s.clientId, clientId: s.clientId, before: null, after: { suspendedOn: s.suspendedOn }, clause: '12.2a' });
  }
}

/** The whole evaluation at `at` under the policy in force; one transaction per client. */
export async function runDunning(db: Db, at: Date): Promise<void> {
  const today = localDate(at);
  const policy = await dunningPolicyOf(db);
  const rows = await db
    .selectDistinct({ clientId: invoices.clientId })
    .from(invoices)
    .where(and(eq(invoices.status, 'open'), eq(invoices.kind, 'invoice'), lt(invoices.dueDate, today)))
    .orderBy(sql`1`);
  for (const { clientId } of rows) await db.transaction((tx) => dunClient(tx, clientId, at, policy));
  await db.transaction((tx) => markTerminationEligible(tx, at, policy));
}
