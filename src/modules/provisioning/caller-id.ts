import { and, asc, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { phoneNumbers, type NumberType } from './schema.ts';

/**
 * Caller-ID helpers (RULES.md "Main number and caller ID", §17.1). Numbers count while
 * `assigned` — a §8.6 pending release included, since the number stays assigned.
 */
export interface ClientNumber {
  number: string;
  type: NumberType;
  userId: string | null;
  isMain: boolean;
  assignedAt: Date;
}

/** Every number assigned to the client, lowest first. */
export async function numbersOfClient(db: DbOrTx, clientId: string): Promise<ClientNumber[]> {
  const rows = await db
    .select()
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.clientId, clientId), eq(phoneNumbers.state, 'assigned')))
    .orderBy(asc(phoneNumbers.number));
  return rows.map((r) => ({ number: r.number, type: r.type, userId: r.userId, isMain: r.isMain, assignedAt: r.assignedAt! }));
}

/** The user's own number: its earliest assigned (ties: the lowest); null when none. */
export async function userNumber(db: DbOrTx, userId: string): Promise<string | null> {
  const [row] = await db
    .select({ number: phoneNumbers.number })
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.userId, userId), eq(phoneNumbers.state, 'assigned')))
    .orderBy(asc(phoneNumbers.assignedAt), asc(phoneNumbers.number))
    .limit(1);
  return row?.number ?? null;
}

/** The client's main number: the designated one, else its earliest assigned (ties: the lowest); null when none. */
export async function mainNumber(db: DbOrTx, clientId: string): Promise<string | null> {
  const [row] = await db
    .select({ number: phoneNumbers.number })
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.clientId, clientId), eq(phoneNumbers.state, 'assigned')))
    .orderBy(desc(phoneNumbers.isMain), asc(phoneNumbers.assignedAt), asc(phoneNumbers.number))
    .limit(1);
  return row?.number ?? null;
}
