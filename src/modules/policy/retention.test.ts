import { expect, it } from 'vitest';
import { describeEachDb, useMigratedDatabase } from '../../../test/support/db.ts';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { MAX_CALL_MS } from './limits.ts';
import { DAY_MS, purgeDecisions } from './retention.ts';
import { policyDecisions, securityAlerts } from './schema.ts';

describeEachDb('policy_decisions retention (issue #7)', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  const at = new Date('2027-06-01T00:00:00Z');
  const ago = (ms: number): Date => new Date(at.getTime() - ms);
  async function row(o: { allowed: boolean; startedAt: Date; endedAt: Date | null }): Promise<string> {
    const id = newId(o.startedAt);
    await database.db.insert(policyDecisions).values({
      id,
      clientId: newId(at),
      direction: 'outbound',
      dialled: '+3243000000',
      destinationClass: 'national',
      allowed: o.allowed,
      facts: {},
      startedAt: o.startedAt,
      endedAt: o.endedAt,
    });
    return id;
  }

  it('deletes what ended more than 90 days ago, keeps what ended exactly 90 days ago, the live and the alerted', async () => {
    const d90 = 90 * DAY_MS;
    const old = await row({ allowed: true, startedAt: ago(d90 + 60_000), endedAt: ago(d90 + 1) });
    const boundary = await row({ allowed: true, startedAt: ago(d90 + 60_000), endedAt: ago(d90) });
    const refusedOld = await row({ allowed: false, startedAt: ago(d90 + 1), endedAt: null });
    const refusedBoundary = await row({ allowed: false, startedAt: ago(d90), endedAt: null });
    const lostEnded = await row({ allowed: true, startedAt: ago(d90 + MAX_CALL_MS + 1), endedAt: null });
    const live = await row({ allowed: true, startedAt: ago(d90 + MAX_CALL_MS - 1), endedAt: null });
    const alerted = await row({ allowed: false, startedAt: ago(d90 + 1), endedAt: null });
    await database.db.insert(securityAlerts).values({ id: newId(at), clientId: newId(at), kind: 'call_attempts', clause: '4.3b', decisionId: alerted, details: {}, openedAt: at });

    expect(await purgeDecisions(database.db, at, 90)).toBe(3);
    const left = new Set((await database.db.select({ id: policyDecisions.id }).from(policyDecisions)).map((r) => r.id));
    for (const id of [old, refusedOld, lostEnded]) expect(left.has(id)).toBe(false);
    for (const id of [boundary, refusedBoundary, live, alerted]) expect(left.has(id)).toBe(true);
    expect(await purgeDecisions(database.db, at, 90)).toBe(0);
  });
});
