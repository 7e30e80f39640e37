import { afterEach, describe, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase, useMigratedDatabase } from '../../test/support/db.ts';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { newId } from '../kernel/ids.ts';
import { LocationWriter, type RegisterUpdate, activeBindings, applyRegister, applyRegisters, purgeExpiredBindings, userBindings } from './location.ts';

const AOR = 'sip:alice@pbx.test';
const CLIENT = newId();
const USER = newId();
const T0 = new Date('2027-01-04T09:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

const update = (o: Partial<RegisterUpdate> = {}): RegisterUpdate => ({
  aor: AOR,
  clientId: CLIENT,
  userId: USER,
  callId: 'call-1',
  cseq: 1,
  removeAll: false,
  contacts: [{ uri: 'sip:alice@10.0.0.5', expires: 3600, q: 1 }],
  source: { address: '10.0.0.5', port: 5060, transport: 'UDP' },
  userAgent: 'phone',
  maxBindings: 20,
  ...o,
});

describeEachDb('location (one statement per REGISTER)', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));
  afterEach(async () => {
    await database.db.execute('DELETE FROM sip_bindings');
  });
  const uris = async (now: Date): Promise<string[]> => (await activeBindings(database.db, AOR, now)).map((b) => b.contactUri);

  it('inserts, refreshes in place, and returns the live bindings ordered by q then recency', async () => {
    const first = await applyRegister(database.db, update(), T0);
    expect(first.kind).toBe('ok');
    const second = await applyRegister(
      database.db,
      update({ cseq: 2, contacts: [{ uri: 'sip:alice@10.0.0.6', expires: 600, q: 0.5 }, { uri: 'sip:alice@10.0.0.5', expires: 1800, q: 1 }] }),
      at(10),
    );
    if (second.kind !== 'ok') throw new Error(second.kind);
    expect(second.bindings.map((b) => [b.contactUri, b.q, b.cseq, b.expiresAt.toISOString()])).toEqual([
      ['sip:alice@10.0.0.5', 1, 2, at(1810).toISOString()],
      ['sip:alice@10.0.0.6', 0.5, 2, at(610).toISOString()],
    ]);
    // The statement gives back the columns the registrar reads (issue #4): the same values as the stored rows.
    const stored = await userBindings(database.db, CLIENT, USER, at(10));
    expect(stored.map(({ id, contactUri, callId, cseq, expiresAt, q, updatedAt }) => ({ id, contactUri, callId, cseq, expiresAt, q, updatedAt }))).toEqual(second.bindings);
    expect(Object.keys(second.bindings[0]!).sort()).toEqual(['callId', 'contactUri', 'cseq', 'expiresAt', 'id', 'q', 'updatedAt']);
  });

  it('writes nothing when one contact is out of order (§10.3 step 7), nor past maxBindings', async () => {
    await applyRegister(database.db, update({ cseq: 5 }), T0);
    const late = await applyRegister(
      database.db,
      update({ cseq: 5, contacts: [{ uri: 'sip:alice@10.0.0.9', expires: 60, q: 1 }, { uri: 'sip:alice@10.0.0.5', expires: 60, q: 1 }] }),
      at(1),
    );
    expect(late).toEqual({ kind: 'out-of-order', contact: 'sip:alice@10.0.0.5' });
    expect(await uris(at(1))).toEqual(['sip:alice@10.0.0.5']);
    const many = await applyRegister(database.db, update({ callId: 'other', contacts: [{ uri: 'sip:alice@10.0.0.7', expires: 60, q: 1 }], maxBindings: 1 }), at(2));
    expect(many).toEqual({ kind: 'too-many' });
    expect(await uris(at(2))).toEqual(['sip:alice@10.0.0.5']);
  });

  it('purges expired bindings of the AOR, revives an expired contact whatever its CSeq, and removes all with *', async () => {
    await applyRegister(database.db, update({ contacts: [{ uri: 'sip:alice@10.0.0.5', expires: 60, q: 1 }, { uri: 'sip:alice@10.0.0.6', expires: 60, q: 1 }] }), T0);
    const revived = await applyRegister(database.db, update({ cseq: 1 }), at(61));
    expect(revived.kind === 'ok' && revived.bindings.map((b) => b.contactUri)).toEqual(['sip:alice@10.0.0.5']);
    expect((await activeBindings(database.db, AOR, at(61))).map((b) => [b.contactUri, b.createdAt.toISOString()])).toEqual([['sip:alice@10.0.0.5', at(61).toISOString()]]);
    expect(await purgeExpiredBindings(database.db, at(61))).toBe(0); // 10.0.0.6 went with the REGISTER
    const gone = await applyRegister(database.db, update({ callId: 'x', removeAll: true, contacts: [] }), at(62));
    expect(gone).toEqual({ kind: 'ok', bindings: [] });
    expect(await uris(at(62))).toEqual([]);
  });

  it('keeps one binding for a contact written twice in a request, or written differently later (§19.1.4)', async () => {
    const twice = await applyRegister(
      database.db,
      update({ contacts: [{ uri: 'sip:alice@10.0.0.5;transport=udp', expires: 60, q: 1 }, { uri: 'sip:alice@10.0.0.5;transport=UDP', expires: 120, q: 1 }] }),
      T0,
    );
    expect(twice.kind === 'ok' && twice.bindings.map((b) => [b.contactUri, b.expiresAt.toISOString()])).toEqual([['sip:alice@10.0.0.5;transport=UDP', at(120).toISOString()]]);
    const rewritten = await applyRegister(database.db, update({ cseq: 2, contacts: [{ uri: 'sip:alice@10.0.0.5;TRANSPORT=udp', expires: 300, q: 1 }] }), at(1));
    expect(rewritten.kind === 'ok' && rewritten.bindings.map((b) => b.contactUri)).toEqual(['sip:alice@10.0.0.5;TRANSPORT=udp']);
    expect(await uris(at(1))).toEqual(['sip:alice@10.0.0.5;TRANSPORT=udp']);
  });

  it('two REGISTERs of one AOR at once: one row per contact, the highest CSeq wins, no error', async () => {
    const racers = Array.from({ length: 20 }, (_, i) =>
      applyRegister(database.db, update({ cseq: i + 1, contacts: [{ uri: 'sip:alice@10.0.0.5', expires: 60 + i, q: 1 }, { uri: `sip:alice@10.1.0.${i}`, expires: 60, q: 1 }], maxBindings: 100 }), T0),
    );
    const outcomes = await Promise.all(racers);
    for (const o of outcomes) expect(['ok', 'out-of-order']).toContain(o.kind);
    const live = await activeBindings(database.db, AOR, T0);
    expect(live.filter((b) => b.contactUri === 'sip:alice@10.0.0.5').map((b) => b.cseq)).toEqual([20]);
    const winner = outcomes[19]!;
    expect(winner.kind).toBe('ok');
  });
});

describeEachDb('location, group commit', (kind) => {
  let database: Database;
  useMigratedDatabase(kind, (d) => (database = d));

  it('one statement for REGISTERs of several AORs, each with its own outcome', async () => {
    const bob = 'sip:bob@pbx.test';
    const carol = 'sip:carol@pbx.test';
    await applyRegister(database.db, update({ aor: carol, cseq: 9 }), T0);
    const outcomes = await applyRegisters(database.db, [
      { update: update(), now: T0 },
      { update: update({ aor: bob, contacts: [{ uri: 'sip:bob@10.0.0.8', expires: 60, q: 1 }, { uri: 'sip:bob@10.0.0.9', expires: 60, q: 0.5 }] }), now: T0 },
      { update: update({ aor: carol, cseq: 3 }), now: T0 },
      { update: update({ aor: 'sip:dave@pbx.test', maxBindings: 0 }), now: T0 },
    ]);
    expect(outcomes.map((o) => (o.kind === 'ok' ? o.bindings.map((b) => b.contactUri) : o.kind))).toEqual([
      ['sip:alice@10.0.0.5'],
      ['sip:bob@10.0.0.8', 'sip:bob@10.0.0.9'],
      'out-of-order',
      'too-many',
    ]);
    // Each REGISTER got its own AOR's rows.
    expect(outcomes.slice(0, 2).map((o) => (o.kind === 'ok' ? o.bindings.map((b) => b.id) : []))).toEqual([
      (await activeBindings(database.db, AOR, T0)).map((b) => b.id),
      (await activeBindings(database.db, bob, T0)).map((b) => b.id),
    ]);
    await expect(applyRegisters(database.db, [{ update: update(), now: T0 }, { update: update(), now: T0 }])).rejects.toThrow(/one REGISTER per AOR/u);
  });

  it('keeps every outcome once PostgreSQL runs the prepared statement with its generic plan (6th execution on)', async () => {
    const erin = 'sip:erin@pbx.test';
    const frank = 'sip:frank@pbx.test';
    await database.db.transaction(async (tx) => {
      // One connection for the whole loop; the generic plan from the first execution on (the
      // statement's name changes as its executions double: `queryRows`).
      if (kind === 'postgres') await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
      for (let i = 1; i <= 8; i++) {
        const outcomes = await applyRegisters(tx, [
          { update: update({ aor: erin, callId: 'e', cseq: i, contacts: [{ uri: `sip:erin@10.0.0.${i}`, expires: 60, q: 1 }] }), now: at(i) },
          { update: update({ aor: frank, callId: 'f', cseq: i === 1 ? 100 : 1 }), now: at(i) },
          { update: update({ aor: `sip:g${i}@pbx.test`, maxBindings: 0 }), now: at(i) },
        ]);
        expect(outcomes.map((o) => (o.kind === 'ok' ? o.bindings.map((b) => `${b.contactUri} ${b.cseq}`) : o.kind))).toEqual([
          Array.from({ length: i }, (_, k) => `sip:erin@10.0.0.${i - k} ${i - k}`),
          i === 1 ? ['sip:alice@10.0.0.5 100'] : 'out-of-order',
          'too-many',
        ]);
      }
      if (kind === 'postgres') {
        // Prepared on this connection and run with its generic plan.
        const plans: unknown = await tx.execute(sql`SELECT sum(generic_plans)::int AS generic FROM pg_prepared_statements WHERE name LIKE 'e2p\\_apply\\_registers%'`);
        expect(plans).toMatchObject({ rows: [{ generic: expect.any(Number) as unknown }] });
        expect((plans as { rows: { generic: number }[] }).rows[0]!.generic).toBeGreaterThan(0);
      }
      tx.rollback();
    }).catch((e: unknown) => {
      if (!(e instanceof Error && e.message === 'Rollback')) throw e;
    });
  });

  it('LocationWriter: REGISTERs arriving together share statements; two of one AOR apply in order', async () => {
    const writer = new LocationWriter(database.db, { maxInFlight: 1, maxBatch: 3 });
    const sent = Array.from({ length: 7 }, (_, i) => writer.apply(update({ aor: `sip:u${i % 5}@pbx.test`, callId: 'w', cseq: 10 + i }), T0));
    const outcomes = await Promise.all(sent);
    expect(outcomes.map((o) => o.kind)).toEqual(Array(7).fill('ok'));
    const u0 = await activeBindings(database.db, 'sip:u0@pbx.test', T0);
    expect(u0.map((b) => b.cseq)).toEqual([15]); // the later REGISTER of u0 (cseq 15) went after cseq 10
  });

  it('LocationWriter by default: one statement in flight, everything that arrived meanwhile in the next one (issue #4)', async () => {
    const writer = new LocationWriter(database.db);
    const sent = Array.from({ length: 60 }, (_, i) => writer.apply(update({ aor: `sip:batch${i}@pbx.test`, callId: 'b' }), T0));
    const outcomes = await Promise.all(sent);
    expect(outcomes.map((o) => o.kind)).toEqual(Array(60).fill('ok'));
    // The first went alone (the writer was idle), the 59 others together once it had committed.
    expect(writer.statements).toBe(2);
    const rows = await Promise.all(Array.from({ length: 60 }, (_, i) => activeBindings(database.db, `sip:batch${i}@pbx.test`, T0)));
    expect(outcomes.map((o) => (o.kind === 'ok' ? o.bindings.map((b) => b.id) : []))).toEqual(rows.map((r) => r.map((b) => b.id)));
  });

  it('LocationWriter: the next statement is on its way before the callers of the last one go on (issue #4)', async () => {
    const writer = new LocationWriter(database.db);
    // Same AOR: three statements one after the other.
    const sent = [1, 2, 3].map((cseq) => writer.apply(update({ callId: 'n', cseq }), T0));
    const statementsSeenByFirst = await sent[0]!.then(() => writer.statements);
    expect(statementsSeenByFirst).toBe(2);
    expect((await Promise.all(sent)).map((o) => o.kind)).toEqual(['ok', 'ok', 'ok']);
    expect(writer.statements).toBe(3);
  });
});

describe('location across two database handles (two SIP nodes on one PostgreSQL)', () => {
  it.runIf(process.env.TEST_DATABASE_URL !== undefined)('a binding written through one handle is found through the other', async () => {
    const { database: a, url, drop } = await migratedTestDatabase('postgres');
    const { openDatabase } = await import('../db/client.ts');
    const b = await openDatabase({ url });
    try {
      await applyRegister(a.db, update(), T0);
      expect((await userBindings(b.db, CLIENT, USER, at(1))).map((x) => x.contactUri)).toEqual(['sip:alice@10.0.0.5']);
    } finally {
      await b.close();
      await drop();
    }
  });
});
