/**
 * The life of a call beyond its set-up (issue #4): CDRs left open by a crash closed at
 * start-up (`crash_recovery`), the maximum call duration (`max_duration`, BYE on both
 * legs), orphans swept, in-dialog re-INVITE/UPDATE/INFO relayed, unknown dialogs → 481.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import {
  ALICE,
  BOB,
  BOB_DESK,
  CLIENT,
  DOMAIN,
  PHONE,
  type Rig,
  SDP,
  answer,
  call,
  cdrOf,
  fromCaller,
  registerUser,
  requestsTo,
  responses,
  responsesTo,
  rig,
  sentTo,
} from '../../test/support/sip-call-rig.ts';
import type { Database } from '../db/client.ts';
import { type SipRequest, buildResponse, getHeader } from '../sip/index.ts';
import { openCdr } from './cdrs.ts';
import { type CallPolicy, permissiveCallPolicy } from './policy.ts';

const SDP2 = SDP.replace('4000', '4002');

function hooks(): CallPolicy & { log: string[] } {
  const log: string[] = [];
  return {
    ...permissiveCallPolicy(),
    log,
    decide: () => Promise.resolve({ allowed: true, callerId: null, emergency: false, admission: 'adm' }),
    answered: (a) => (log.push(`answered ${a}`), Promise.resolve()),
    ended: (a) => (log.push(`ended ${a}`), Promise.resolve()),
  };
}

describeEachDb('call lifecycle', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let r: Rig;
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  afterAll(async () => drop());
  beforeEach(async () => {
    await database.db.execute('DELETE FROM sip_bindings');
    await database.db.execute('DELETE FROM cdrs');
  });
  afterEach(async () => {
    await r.server.close();
  });

  /** Alice calls Bob, Bob answers: returns the B-leg INVITE and our tag on Alice's leg. */
  async function answered(): Promise<{ callId: string; bInvite: SipRequest; aTag: string }> {
    await registerUser(database, r, BOB, 'bob', [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 200, BOB_DESK, 'bob1');
    const aTag = responses(r).at(-1)!.to.params.get('tag')!;
    r.udp.deliver(fromCaller('ACK', callId, aTag, 2), PHONE);
    await r.server.idle();
    return { callId, bInvite: bInvite!, aTag };
  }

  it('after the call, ACKs a 2xx the callee retransmits (its transaction lingers in Accepted without the call)', async () => {
    r = rig(database);
    const { callId, bInvite, aTag } = await answered();
    expect(requestsTo(r, BOB_DESK, 'ACK')).toHaveLength(1);
    r.udp.deliver(fromCaller('BYE', callId, aTag, 3), PHONE);
    await r.server.idle();
    expect(requestsTo(r, BOB_DESK, 'BYE')).toHaveLength(1);
    expect(r.server.router.size).toBe(0);
    // The 200 to the BYE, written from its headers (responseBytes): what buildResponse gave, plus Server.
    const ok = responses(r).at(-1)!;
    expect([ok.status, ok.cseq.method, ok.to.params.get('tag'), ok.callId]).toEqual([200, 'BYE', aTag, callId]);
    expect(ok.headers.map((h) => h.name)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Server', 'Content-Length']);
    expect(getHeader(ok, 'Server')).toBe('Easy2Phone');
    expect(ok.via[0]).toMatchObject({ host: '10.0.0.5', port: 5062, rport: PHONE.port });
    // A BYE of no dialog: 481, the same way.
    r.udp.deliver(fromCaller('BYE', callId, aTag, 4), PHONE);
    await r.server.idle();
    const gone = responses(r).at(-1)!;
    expect([gone.status, gone.cseq.seq, getHeader(gone, 'Server')]).toEqual([481, 4, 'Easy2Phone']);
    answer(r, bInvite, 200, BOB_DESK, 'bob1'); // the callee missed our ACK
    await r.server.idle();
    expect(requestsTo(r, BOB_DESK, 'ACK')).toHaveLength(2);
    expect(requestsTo(r, BOB_DESK, 'BYE')).toHaveLength(1);
    expect(requestsTo(r, BOB_DESK, 'ACK')[1]!.to.params.get('tag')).toBe('bob1');
  });

  it('stops resending its 2xx at the caller’s ACK: the timer is cancelled, not left holding the call (issue #4)', async () => {
    r = rig(database);
    await registerUser(database, r, BOB, 'bob', [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 200, BOB_DESK, 'bob1');
    const aTag = responses(r).at(-1)!.to.params.get('tag')!;
    await r.server.idle();
    const pending = r.timers.size;
    r.udp.deliver(fromCaller('ACK', callId, aTag, 2), PHONE);
    await r.server.idle();
    expect(requestsTo(r, BOB_DESK, 'ACK')).toHaveLength(1);
    expect(r.timers.size).toBe(pending - 1);
    r.timers.advance(32_000);
    expect(responses(r).filter((m) => m.status === 200 && m.cseq.method === 'INVITE')).toHaveLength(1);
  });

  it('closes the CDRs a crash left open at start-up (crash_recovery) and releases their admissions; other nodes keep theirs', async () => {
    const policy = hooks();
    r = rig(database, { policy });
    const startedAt = new Date('2027-01-04T08:00:00Z');
    const base = { clientId: CLIENT, userId: ALICE, direction: 'outbound' as const, fromExtension: '201', dialled: '0475123456', destination: '+32475123456', startedAt, callerId: null, allowed: true, clause: null };
    await openCdr(database.db, { ...base, callId: 'crashed', sipNode: 'test-node', admission: 'adm-crashed' });
    await openCdr(database.db, { ...base, callId: 'elsewhere', sipNode: 'other-node' });
    expect(await r.server.recover()).toBe(1);
    expect(await cdrOf(database, 'crashed')).toMatchObject([{ endedAt: r.clock.now(), hangupBy: 'system', endReason: 'crash_recovery', billableSeconds: 0, sipStatus: 500 }]);
    expect(await cdrOf(database, 'elsewhere')).toMatchObject([{ endedAt: null }]);
    expect(policy.log).toEqual(['ended adm-crashed']);
    expect(await r.server.recover()).toBe(0);
  });

  it('ends a call at the maximum duration: BYE on both legs, CDR max_duration, admission released once', async () => {
    const policy = hooks();
    r = rig(database, { policy, env: { E2P_SIP_MAX_CALL_SECONDS: '60' } });
    const { callId } = await answered();
    r.clock.advance(60_000);
    r.timers.advance(60_000);
    await r.server.idle();
    expect(requestsTo(r, BOB_DESK, 'BYE')).toHaveLength(1);
    expect(requestsTo(r, PHONE, 'BYE')).toHaveLength(1);
    expect(policy.log).toEqual(['answered adm', 'ended adm']);
    expect(await cdrOf(database, callId)).toMatchObject([{ sipStatus: 200, billableSeconds: 60, hangupBy: 'system', endReason: 'max_duration' }]);
    expect(r.server.router.size).toBe(0);
  });

  it('sweeps open CDRs older than the maximum duration that no live call holds', async () => {
    r = rig(database, { env: { E2P_SIP_MAX_CALL_SECONDS: '60' } });
    const { callId } = await answered();
    await openCdr(database.db, {
      clientId: CLIENT,
      userId: ALICE,
      callId: 'orphan',
      direction: 'internal',
      fromExtension: '201',
      dialled: '202',
      destination: '202',
      startedAt: new Date(r.clock.now().getTime() - 3_600_000),
      callerId: null,
      allowed: true,
      clause: null,
      sipNode: 'test-node',
    });
    await r.server.purge();
    expect(await cdrOf(database, 'orphan')).toMatchObject([{ endReason: 'max_duration', hangupBy: 'system' }]);
    expect(await cdrOf(database, callId)).toMatchObject([{ endedAt: null }]);
  });

  it('relays a re-INVITE to the other leg with its dialog identifiers and CSeq, the 200 back, and the ACK', async () => {
    r = rig(database);
    const { callId, bInvite, aTag } = await answered();
    r.udp.deliver(fromCaller('INVITE', callId, aTag, 3, ['Contact: <sip:alice@10.0.0.5:5062>'], SDP2), PHONE);
    await r.server.idle();
    const [, reInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    expect(reInvite!.callId).toBe(bInvite.callId);
    expect(reInvite!.cseq).toEqual({ seq: 2, method: 'INVITE' });
    expect(reInvite!.to.params.get('tag')).toBe('bob1');
    expect(reInvite!.from.params.get('tag')).toBe(bInvite.from.params.get('tag'));
    expect(Buffer.from(reInvite!.body).toString()).toBe(SDP2);
    r.udp.deliver(buildResponse(reInvite!, 200, { headers: [{ name: 'Contact', value: `<sip:bob@${BOB_DESK.address}:${BOB_DESK.port}>` }], content: { type: 'application/sdp', body: Buffer.from(SDP) } }), BOB_DESK);
    const ok = responses(r).at(-1)!;
    expect(ok).toMatchObject({ status: 200, cseq: { seq: 3, method: 'INVITE' } });
    expect(Buffer.from(ok.body).toString()).toBe(SDP);
    expect(getHeader(ok, 'Contact')).toMatch(/^<sip:b2bua@192\.0\.2\.1:5060/u);
    r.udp.deliver(fromCaller('ACK', callId, aTag, 3), PHONE);
    const acks = requestsTo(r, BOB_DESK, 'ACK');
    expect(acks.map((a) => a.cseq.seq)).toEqual([1, 2]);
    expect(await cdrOf(database, callId)).toMatchObject([{ endedAt: null }]);
  });

  it('relays UPDATE and INFO from the callee to the caller, and the answers back', async () => {
    r = rig(database);
    const { callId, bInvite } = await answered();
    const ourTag = bInvite.from.params.get('tag')!;
    const fromBob = (method: string, cseq: number, body = ''): string =>
      [
        `${method} sip:b2bua@192.0.2.1:5060 SIP/2.0`,
        `Via: SIP/2.0/UDP ${BOB_DESK.address}:${BOB_DESK.port};branch=z9hG4bK-bob-${method}-${cseq}`,
        'Max-Forwards: 70',
        `From: <sip:202@${DOMAIN}>;tag=bob1`,
        `To: <sip:201@${DOMAIN}>;tag=${ourTag}`,
        `Call-ID: ${bInvite.callId}`,
        `CSeq: ${cseq} ${method}`,
        ...(body === '' ? [] : ['Content-Type: application/dtmf-relay']),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
    r.udp.deliver(fromBob('INFO', 5, 'Signal=5\r\nDuration=160\r\n'), BOB_DESK);
    await r.server.idle();
    const [info] = requestsTo(r, PHONE, 'INFO');
    expect(info!.callId).toBe(callId);
    expect(info!.to.params.get('tag')).toBe(`alice-${callId}`);
    expect(Buffer.from(info!.body).toString()).toBe('Signal=5\r\nDuration=160\r\n');
    r.udp.deliver(buildResponse(info!, 200), PHONE);
    expect(responsesTo(r, BOB_DESK).filter((m) => m.cseq.method === 'INFO').map((m) => m.status)).toEqual([200]);
    r.udp.deliver(fromBob('UPDATE', 6), BOB_DESK);
    const [update] = requestsTo(r, PHONE, 'UPDATE');
    expect(update!.cseq.seq).toBe(info!.cseq.seq + 1);
    r.udp.deliver(buildResponse(update!, 488), PHONE);
    expect(responsesTo(r, BOB_DESK).filter((m) => m.cseq.method === 'UPDATE').map((m) => m.status)).toEqual([488]);
  });

  it('answers 481 to in-dialog requests that match no call', async () => {
    r = rig(database);
    for (const method of ['UPDATE', 'INFO', 'INVITE']) {
      r.udp.deliver(fromCaller(method, `nowhere-${method}`, 'no-such-tag', 1, method === 'INVITE' ? ['Contact: <sip:alice@10.0.0.5:5062>'] : []), PHONE);
    }
    await r.server.idle();
    expect(sentTo(r, PHONE).flatMap((m) => (m.kind === 'response' && m.status !== 100 ? [`${m.status} ${m.cseq.method}`] : []))).toEqual(['481 UPDATE', '481 INFO', '481 INVITE']);
  });
});
