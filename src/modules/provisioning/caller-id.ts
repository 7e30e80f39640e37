import { and, asc, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { phoneNumbers, type NumberType } from './schema.ts';

/**
 * Caller-ID helpers (RULES.md "Main number and caller ID", §17.1) — as queries, and as the
 * same rules over numbers already read (the call policy reads them in one statement).
 * Numbers count while `assigned` — a §8.6 pending release included, since the number stays assigned.
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

/** The caller-ID order: earliest assigned first, ties by the lowest number. */
const earlier = (a: ClientNumber, b: ClientNumber): boolean =>
  a.assignedAt < b.assignedAt || (a.assignedAt.getTime() === b.assignedAt.getTime() && a.number < b.number);

/** `mainNumber` over numbers already read: the designated main number, else the earliest assigned. */
export function mainNumberIn(numbers: readonly ClientNumber[]): string | null {
  let best: ClientNumber | null = null;
  for (const n of numbers) if (best === null || (n.isMain && !best.isMain) || (n.isMain === best.isMain && earlier(n, best))) best = n;
  return best?.number ?? null;
}

/**
 * The caller-ID facts of a client's numbers, indexed once (issue #4: a client whose users
 * all have a DID holds thousands; the call policy asks on every call): the assigned set,
 * each user's own number (`userNumber` over numbers already read: its earliest assigned) and
 * the main number (`mainNumberIn`).
 */
export interface NumberIndex {
  readonly assigned: ReadonlySet<string>;
  /** Per user id, its own number. */
  readonly ownOf: ReadonlyMap<string, ClientNumber>;
  readonly main: string | null;
}

const indexes = new WeakMap<readonly ClientNumber[], NumberIndex>();

/** The index of `numbers`, built once per array (the policy's facts cache keeps its array until the client's facts change). */
export function numberIndex(numbers: readonly ClientNumber[]): NumberIndex {
  let index = indexes.get(numbers);
  if (index !== undefined) return index;
  const ownOf = new Map<string, ClientNumber>();
  for (const n of numbers) {
    if (n.userId === null) continue;
    const b = ownOf.get(n.userId);
    if (b === undefined || earlier(n, b)) ownOf.set(n.userId, n);
  }
  index = { assigned: new Set(numbers.map((n) => n.number)), ownOf, main: mainNumberIn(numbers) };
  indexes.set(numbers, index);
  return index;
}
