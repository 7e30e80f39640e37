import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import {
  ALICE,
  BOB,
  BOB_DESK,
  DOMAIN,
  PHONE,
  SDP,
  type Rig,
  answer,
  call as placeCall,
  cdrOf,
  rig as sipRig,
  registerUser,
  requestsTo,
  responses,
  sentTo,
} from '../../test/support/sip-call-rig.ts';
import type { Database } from '../db/client.ts';
import { type Endpoint, type SipRequest, getHeader } from '../sip/index.ts';
import { type CallPolicy, permissiveCallPolicy } from './policy.ts';

const BOB_MOBILE = { address: '203.0.113.21', port: 5080 };
const rig = (database: Database, policy?: CallPolicy): Rig => sipRig(database, policy === undefined ? {} : { policy });
const call = (r: Rig, to: string, callId?: string) => placeCall(r, to, callId === undefined ? {} : { callId });
const registerBob = (database: Database, r: Rig, contacts: Endpoint[]) => registerUser(database, r, BOB, 'bob', contacts);

describeEachDb('call router', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let r: Rig;
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  afterAll(async () => drop());
  beforeEach(async () => {
    await database.db.execute('DELETE FROM sip_bindings');
    r = rig(database);
  });
  afterEach(async () => {
    await r.server.close();
  });

  it('answers 404 for an extension the client does not have', async () => {
    const { callId } = await call(r, '299');
    expect(responses(r).at(-1)!.status).toBe(404);
    expect(await cdrOf(database, callId)).toEqual([]);
  });

  it('answers 480 when the callee has no binding, and records the attempt', async () => {
    const { callId } = await call(r, '203');
    expect(responses(r).at(-1)!.status).toBe(480);
    expect(await cdrOf(database, callId)).toMatchObject([{ direction: 'internal', destination: '203', allowed: true, sipStatus: 480, billableSeconds: 0 }]);
  });

  it('answers the status of a policy refusal with a Warning, and records the clause', async () => {
    await r.server.close();
    r = rig(database, { ...permissiveCallPolicy(), decide: () => Promise.resolve({ allowed: false, sipStatus: 403, clause: '8.7', reason: 'service suspended' }) });
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const last = responses(r).at(-1)!;
    expect(last.status).toBe(403);
    expect(getHeader(last, 'Warning')).toBe('399 easy2phone "clause 8.7: service suspended"');
    expect(requestsTo(r, BOB_DESK, 'INVITE')).toEqual([]);
    expect(await cdrOf(database, callId)).toMatchObject([{ allowed: false, clause: '8.7', sipStatus: 403, userId: ALICE, fromExtension: '201' }]);
  });

  it('bridges a call: B-leg INVITE with the SDP, 180 and 200 relayed, ACK and BYE bridged, CDR with the duration', async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite, ...more] = requestsTo(r, BOB_DESK, 'INVITE');
    expect(more).toEqual([]);
    expect(bInvite!.callId).not.toBe(callId);
    expect(Buffer.from(bInvite!.body).toString()).toBe(SDP);
    expect(bInvite!.maxForwards).toBe(69);
    answer(r, bInvite!, 180, BOB_DESK, 'bob1');
    expect(responses(r).at(-1)!.status).toBe(180);
    r.clock.advance(1000);
    answer(r, bInvite!, 200, BOB_DESK, 'bob1');
    const ok = responses(r).at(-1)!;
    expect(ok.status).toBe(200);
    expect(getHeader(ok, 'Contact')).toMatch(/^<sip:b2bua@192\.0\.2\.1:5060/);
    const tag = ok.to.params.get('tag')!;
    r.udp.deliver(
      [`ACK sip:b2bua@192.0.2.1:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-ack-1;rport', 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`, `To: <sip:202@${DOMAIN}>;tag=${tag}`, `Call-ID: ${callId}`, 'CSeq: 2 ACK', 'Content-Length: 0', '', ''].join('\r\n'),
      PHONE,
    );
    expect(requestsTo(r, BOB_DESK, 'ACK')).toHaveLength(1);
    r.clock.advance(2500);
    r.udp.deliver(
      [`BYE sip:b2bua@192.0.2.1:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-bye-1;rport', 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`, `To: <sip:202@${DOMAIN}>;tag=${tag}`, `Call-ID: ${callId}`, 'CSeq: 3 BYE', 'Content-Length: 0', '', ''].join('\r\n'),
      PHONE,
    );
    await r.server.idle();
    expect(responses(r).at(-1)).toMatchObject({ status: 200, cseq: { method: 'BYE' } });
    const [bye] = requestsTo(r, BOB_DESK, 'BYE');
    expect(bye!.callId).toBe(bInvite!.callId);
    expect(bye!.to.params.get('tag')).toBe('bob1');
    expect(await cdrOf(database, callId)).toMatchObject([{ direction: 'internal', allowed: true, sipStatus: 200, billableSeconds: 3, dialled: '202', destination: '202' }]);
  });

  it('bridges a BYE from the callee to the caller', async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 200, BOB_DESK, 'bob1');
    const tag = responses(r).at(-1)!.to.params.get('tag')!;
    const ourTag = bInvite!.from.params.get('tag')!;
    r.udp.deliver(
      [`BYE sip:b2bua@192.0.2.1:5060 SIP/2.0`, 'Via: SIP/2.0/UDP 203.0.113.20:5070;branch=z9hG4bK-bbye-1;rport', 'Max-Forwards: 70', `From: <sip:202@${DOMAIN}>;tag=bob1`, `To: <sip:201@${DOMAIN}>;tag=${ourTag}`, `Call-ID: ${bInvite!.callId}`, 'CSeq: 1 BYE', 'Content-Length: 0', '', ''].join('\r\n'),
      BOB_DESK,
    );
    await r.server.idle();
    expect(sentTo(r, BOB_DESK).filter((m) => m.kind === 'response').at(-1)).toMatchObject({ status: 200, cseq: { method: 'BYE' } });
    const [bye] = sentTo(r, PHONE).filter((m): m is SipRequest => m.kind === 'request' && m.method === 'BYE');
    expect(bye!.callId).toBe(callId);
    expect(bye!.from.params.get('tag')).toBe(tag);
    expect(bye!.to.params.get('tag')).toBe(`alice-${callId}`);
    expect(await cdrOf(database, callId)).toMatchObject([{ sipStatus: 200 }]);
  });

  it("cancels the branches when the caller cancels: 200 to the CANCEL, 487 to the INVITE", async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId, invite: text } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 180, BOB_DESK, 'bob1');
    const via = /^Via: .*$/mu.exec(text)![0];
    r.udp.deliver(
      [`CANCEL sip:202@${DOMAIN} SIP/2.0`, via, 'Max-Forwards: 70', `From: <sip:201@${DOMAIN}>;tag=alice-${callId}`, `To: <sip:202@${DOMAIN}>`, `Call-ID: ${callId}`, 'CSeq: 2 CANCEL', 'Content-Length: 0', '', ''].join('\r\n'),
      PHONE,
    );
    await r.server.idle();
    const statuses = responses(r).map((m) => `${m.status} ${m.cseq.method}`);
    expect(statuses).toEqual(expect.arrayContaining(['200 CANCEL', '487 INVITE']));
    expect(requestsTo(r, BOB_DESK, 'CANCEL')).toHaveLength(1);
    answer(r, bInvite!, 487, BOB_DESK, 'bob1');
    expect(await cdrOf(database, callId)).toMatchObject([{ sipStatus: 487, answeredAt: null, billableSeconds: 0 }]);
  });

  it('forks to every binding: the first 200 wins, the other branch is cancelled', async () => {
    await registerBob(database, r, [BOB_DESK, BOB_MOBILE]);
    const { callId } = await call(r, '202');
    const [desk] = requestsTo(r, BOB_DESK, 'INVITE');
    const [mobile] = requestsTo(r, BOB_MOBILE, 'INVITE');
    expect(desk!.callId).not.toBe(mobile!.callId);
    answer(r, desk!, 180, BOB_DESK, 'desk');
    answer(r, mobile!, 180, BOB_MOBILE, 'mobile');
    answer(r, mobile!, 200, BOB_MOBILE, 'mobile');
    expect(responses(r).filter((m) => m.status === 200 && m.cseq.method === 'INVITE')).toHaveLength(1);
    const [cancel, ...more] = requestsTo(r, BOB_DESK, 'CANCEL');
    expect(more).toEqual([]);
    expect(cancel!.via[0]!.branch).toBe(desk!.via[0]!.branch);
    expect(requestsTo(r, BOB_MOBILE, 'CANCEL')).toEqual([]);
    // The desk phone answering too late is ACKed and hung up.
    answer(r, desk!, 200, BOB_DESK, 'desk');
    expect(requestsTo(r, BOB_DESK, 'ACK')).toHaveLength(1);
    expect(requestsTo(r, BOB_DESK, 'BYE')).toHaveLength(1);
    r.timers.advance(500); // no ACK yet from the caller: the 200 is resent (UDP)
    expect(responses(r).filter((m) => m.status === 200 && m.cseq.method === 'INVITE')).toHaveLength(2);
    await r.server.idle();
    // Still in progress: the CDR is open (answered, not ended).
    expect(await cdrOf(database, callId)).toMatchObject([{ endedAt: null, sipStatus: 200, hangupBy: null }]);
    expect((await cdrOf(database, callId))[0]!.answeredAt).not.toBeNull();
  });

  it('gives up an unanswered call after the ring timeout with 408', async () => {
    await registerBob(database, r, [BOB_DESK]);
    const { callId } = await call(r, '202');
    const [bInvite] = requestsTo(r, BOB_DESK, 'INVITE');
    answer(r, bInvite!, 180, BOB_DESK, 'bob1');
    r.timers.advance(180_000);
    await r.server.idle();
    expect(responses(r).at(-1)!.status).toBe(408);
    expect(requestsTo(r, BOB_DESK, 'CANCEL')).toHaveLength(1);
    expect(await cdrOf(database, callId)).toMatchObject([{ sipStatus: 408 }]);
  });
});
