/**
 * The run preview (§8.1): what the billing run at `at` would invoice, computed by the run
 * itself (billClient) inside a transaction that is then rolled back — nothing is issued,
 * no number consumed, no call marked. Used by `GET /billing/preview` and
 * `easy2phone billing run --dry-run`.
 */
import type { Db } from '../../db/client.ts';
import { addMonths, localDate, startOfLocalDay } from '../../kernel/time.ts';
import { clientsWithLiveContract } from '../customers/contract-store.ts';
import { billClient } from './bill-client.ts';
import { billingDayOf } from './billing-day.ts';
import { getInvoice, type InvoiceListItem } from './search-invoices.ts';

export interface PreviewItem {
  clientId: string;
  periodStart: string | null;
  periodEnd: string | null;
  lines: InvoiceListItem['lines'];
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
}

export interface RunPreview {
  at: string;
  items: PreviewItem[];
  invoices: number;
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
}

class Rollback extends Error {}

/** The next run instant after `now`: 00:00 local on the billing day (this month's if still ahead). */
export async function nextRunInstant(db: Db, now: Date): Promise<Date> {
  const day = String(await billingDayOf(db)).padStart(2, '0');
  const today = localDate(now);
  let date = `${today.slice(0, 7)}-${day}`;
  if (startOfLocalDay(date) <= now) date = addMonths(date, 1);
  return startOfLocalDay(date);
}

export async function previewRun(db: Db, at: Date, opts: { clientId?: string | undefined } = {}): Promise<RunPreview> {
  const items: PreviewItem[] = [];
  const ids = opts.clientId ? [opts.clientId] : await clientsWithLiveContract(db);
  for (const clientId of ids) {
    try {
      await db.transaction(async (tx) => {
        const id = await billClient(tx, clientId, at);
        if (id !== null) {
          const inv = await getInvoice(tx, 'system', id);
          items.push({ clientId, periodStart: inv.periodStart, periodEnd: inv.periodEnd, lines: inv.lines, totalExclVatCents: inv.totalExclVatCents, vatCents: inv.vatCents, totalInclVatCents: inv.totalInclVatCents });
        }
        throw new Rollback();
      });
    } catch (e) {
      if (!(e instanceof Rollback)) throw e;
    }
  }
  const sum = (k: 'totalExclVatCents' | 'vatCents' | 'totalInclVatCents'): number => items.reduce((s, i) => s + i[k], 0);
  return { at: at.toISOString(), items, invoices: items.length, totalExclVatCents: sum('totalExclVatCents'), vatCents: sum('vatCents'), totalInclVatCents: sum('totalInclVatCents') };
}
