/** Imported bank statements (staff): newest first, and one statement with its entries and the payments they became. */
import { asc, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { notFound } from '../../kernel/errors.ts';
import { bankEntries, bankStatements, payments } from './schema.ts';

export interface StatementView {
  id: string;
  statementId: string;
  format: string;
  account: string;
  date: string;
  entries: number;
  importedAt: string;
  importedBy: string;
}

const view = (r: typeof bankStatements.$inferSelect): StatementView => ({
  id: r.id,
  statementId: r.statementId,
  format: r.format,
  account: r.account,
  date: r.statementDate,
  entries: r.entries,
  importedAt: r.importedAt.toISOString(),
  importedBy: r.importedBy,
});

export async function listStatements(db: DbOrTx, limit = 100): Promise<StatementView[]> {
  const rows = await db.select().from(bankStatements).orderBy(desc(bankStatements.importedAt), desc(bankStatements.id)).limit(limit);
  return rows.map(view);
}

export async function getStatement(db: DbOrTx, id: string) {
  const [row] = await db.select().from(bankStatements).where(eq(bankStatements.id, id)).limit(1);
  if (!row) throw notFound('bank statement', id);
  const entries = await db
    .select({ entry: bankEntries, clientId: payments.clientId, matchedBy: payments.matchedBy })
    .from(bankEntries)
    .leftJoin(payments, eq(payments.id, bankEntries.paymentId))
    .where(eq(bankEntries.statementRowId, id))
    .orderBy(asc(bankEntries.bookingDate), asc(bankEntries.entryId));
  return {
    ...view(row),
    items: entries.map(({ entry: e, clientId, matchedBy }) => ({
      entryId: e.entryId,
      direction: e.direction,
      amountCents: e.amountCents,
      bookingDate: e.bookingDate,
      valueDate: e.valueDate,
      reference: e.structuredReference,
      freeText: e.freeText,
      payerIban: e.payerIban,
      payerName: e.payerName,
      paymentId: e.paymentId,
      clientId: clientId ?? null,
      matchedBy: matchedBy ?? null,
    })),
  };
}
