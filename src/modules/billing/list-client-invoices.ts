/** A client's invoices with their lines and its balance (§15.3: a client sees only its own; another tenant → 404, recorded). */
import type { DbOrTx } from '../../db/client.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { balanceCents, invoiceLineView, listInvoices } from './invoice-queries.ts';

export interface InvoiceLineView {
  type: string;
  product: string | null;
  zone: string | null;
  quantity: number;
  periodStart: string | null;
  periodEnd: string | null;
  amountCents: number;
  vatRate: number;
  clause: string | null;
  /** Pending items' text (§5.2 interest, §8.8 reminder fee); null otherwise. */
  description: string | null;
}

export interface InvoiceView {
  id: string;
  number: string;
  kind: string;
  issueDate: string;
  dueDate: string;
  status: string;
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
  structuredReference: string;
  lines: InvoiceLineView[];
}

export async function listClientInvoices(db: DbOrTx, opts: { actor: AuditActor; clientId: string }): Promise<{ items: InvoiceView[]; balanceCents: number }> {
  if (opts.actor !== 'system') assertTenant(opts.actor, opts.clientId, { entity: 'client', entityId: opts.clientId });
  const items = (await listInvoices(db, opts.clientId)).map((i) => ({
    id: i.id,
    number: i.number,
    kind: i.kind,
    issueDate: i.issueDate,
    dueDate: i.dueDate,
    status: i.status,
    totalExclVatCents: i.totalExclVatCents,
    vatCents: i.vatCents,
    totalInclVatCents: i.totalInclVatCents,
    structuredReference: i.structuredReference,
    lines: i.lines.map((l) => ({ ...invoiceLineView(l), clause: l.clause, description: l.description })),
  }));
  return { items, balanceCents: await balanceCents(db, opts.clientId) };
}
