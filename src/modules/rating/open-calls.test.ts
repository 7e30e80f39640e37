/** §8.3 rating reads finished calls only: a CDR the SIP router opened (ended_at null) stays unrated until it is closed. */
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.ts';
import { describeEachDb, useMigratedDatabase } from '../../../test/support/db.ts';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { answerCdr, closeCdr, openCdr } from '../../telephony/cdrs.ts';
import { createTariffZone } from '../catalog/create-tariff-zone.ts';
import { rateCdr } from './rate-client-month.ts';

describeEachDb('rating and open calls', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  it('leaves a call in progress unrated, and rates it once it ended', async () => {
    const ctx = testContext(database);
    await createTariffZone(ctx, { actor: 'system', zone: 'BE-MOBILE', prefixes: ['+3247'], perMinuteMicros: 85_000 });
    const startedAt = ctx.clock.now();
    const id = await openCdr(ctx.db, {
      clientId: newId(),
      userId: null,
      callId: 'open-call',
      direction: 'outbound',
      fromExtension: '101',
      dialled: '0475123456',
      destination: '+32475123456',
      startedAt,
      callerId: null,
      allowed: true,
      clause: null,
    });
    const answeredAt = new Date(startedAt.getTime() + 5_000);
    await answerCdr(ctx.db, id, answeredAt);
    await rateCdr(ctx.db, id, ctx.clock.now());
    const row = async () => (await ctx.db.select().from(cdrs).where(eq(cdrs.id, id)))[0]!;
    expect(await row()).toMatchObject({ endedAt: null, ratedAt: null, costCents: null });
    await closeCdr(ctx.db, id, { endedAt: new Date(answeredAt.getTime() + 60_000), answeredAt, sipStatus: 200, hangupBy: 'caller', endReason: 'bye' });
    await rateCdr(ctx.db, id, ctx.clock.now());
    expect(await row()).toMatchObject({ billableSeconds: 60, zone: 'BE-MOBILE', costCents: 9 }); // ceil(60 × 85000 / 600000) = ceil(8.5)
  });
});
