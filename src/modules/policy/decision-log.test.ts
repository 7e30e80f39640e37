/**
 * The decision log's batch (issue #7, one statement since issue #4): rows and their
 * answered/ended reports in the same batch or in later ones follow the same rules —
 * answered only while neither answered nor ended, ended once, the first report wins.
 */
import { inArray } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { describeEachDb, useMigratedDatabase } from '../../../test/support/db.ts';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { decisionLog, type DecisionRow } from './decision-log.ts';
import { policyDecisions } from './schema.ts';

const CLIENT = newId();
const at = (s: number): Date => new Date(Date.UTC(2027, 1, 1, 9, 0, s));
const row = (id: string, extra: Partial<DecisionRow> = {}): DecisionRow => ({
  id,
  clientId: CLIENT,
  userId: null,
  direction: 'outbound',
  dialled: '0475123456',
  destination: '+32475123456',
  destinationClass: 'national',
  allowed: true,
  facts: { test: true },
  startedAt: at(0),
  ...extra,
});

describeEachDb('policy decision log', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  const read = async (ids: string[]) => {
    const rows = await database.db.select().from(policyDecisions).where(inArray(policyDecisions.id, ids));
    return new Map(rows.map((r) => [r.id, { answeredAt: r.answeredAt?.toISOString() ?? null, endedAt: r.endedAt?.toISOString() ?? null }]));
  };

  it('applies reports queued with their row in the same batch as the UPDATE would', async () => {
    const log = decisionLog(database.db);
    const [both, endedOnly, answeredTwice, refused, endedFirst] = [newId(), newId(), newId(), newId(), newId()];
    log.insert(row(both));
    log.insert(row(endedOnly));
    log.insert(row(answeredTwice));
    log.insert(row(refused, { allowed: false, endedAt: at(0) }));
    log.insert(row(endedFirst));
    log.answered(both, at(2));
    log.ended(both, at(9));
    log.ended(endedOnly, at(5));
    log.answered(answeredTwice, at(3));
    log.answered(answeredTwice, at(4));
    log.answered(refused, at(1));
    log.ended(refused, at(7));
    log.ended(endedFirst, at(6));
    log.answered(endedFirst, at(8)); // queued after its end, applied first like the two UPDATEs did
    await log.flush();
    const got = await read([both, endedOnly, answeredTwice, refused, endedFirst]);
    expect(got.get(both)).toEqual({ answeredAt: at(2).toISOString(), endedAt: at(9).toISOString() });
    expect(got.get(endedOnly)).toEqual({ answeredAt: null, endedAt: at(5).toISOString() });
    expect(got.get(answeredTwice)).toEqual({ answeredAt: at(3).toISOString(), endedAt: null });
    expect(got.get(refused)).toEqual({ answeredAt: null, endedAt: at(0).toISOString() });
    expect(got.get(endedFirst)).toEqual({ answeredAt: at(8).toISOString(), endedAt: at(6).toISOString() });
  });

  it('applies reports of rows committed earlier: the first wins, nothing after the end', async () => {
    const log = decisionLog(database.db);
    const [a, b, c] = [newId(), newId(), newId()];
    log.insert(row(a));
    log.insert(row(b));
    log.insert(row(c));
    await log.flush();
    log.answered(a, at(2));
    log.ended(b, at(3));
    await log.flush();
    log.answered(a, at(4)); // already answered
    log.ended(a, at(5));
    log.answered(b, at(6)); // already ended
    log.ended(b, at(7));
    log.answered(c, at(8));
    log.answered(c, at(9));
    await log.flush();
    const got = await read([a, b, c]);
    expect(got.get(a)).toEqual({ answeredAt: at(2).toISOString(), endedAt: at(5).toISOString() });
    expect(got.get(b)).toEqual({ answeredAt: null, endedAt: at(3).toISOString() });
    expect(got.get(c)).toEqual({ answeredAt: at(8).toISOString(), endedAt: null });
  });
});
