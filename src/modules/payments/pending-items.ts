/** §8.1 point 5: pending late interest (§5.2) and reminder fees (§8.8), as invoice lines at vatRate 0 (outside VAT). */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import type { PendingItems } from '../billing/hooks.ts';
import { pendingItems } from './schema.ts';

export async function pendingItemsOf(tx: DbOrTx, clientId: string, at: Date): Promise<PendingItems> {
  const rows = await tx
    .select()
    .from(pendingItems)
    .where(and(eq(pendingItems.clientId, clientId), isNull(pendingItems.billedOn)))
    .orderBy(asc(pendingItems.createdAt), asc(pendingItems.id));
  const due = rows.filter((r) => r.createdAt <= at);
  return {
    lines: due.map((r) => ({
      type: r.type,
      productCode: null,
      zone: null,
      quantity: 1,
      periodStart: null,
      periodEnd: null,
      amountCents: r.amountCents,
      vatRate: 0,
      clause: r.clause,
      description: r.description,
    })),
    async markBilled(t, invoiceId) {
      if (due.length === 0) return;
      await t.update(pendingItems).set({ billedOn: invoiceId }).where(inArray(pendingItems.id, due.map((r) => r.id)));
    },
  };
}
