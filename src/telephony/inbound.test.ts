/**
 * Inbound calls from the carrier (issue #4): a trusted source (E2P_SIP_TRUSTED_CARRIERS,
 * by default the trunk's host) is not challenged; a DID rings its user's bindings; an
 * unassigned DID → 404; the policy's `decideInbound` refusal (§8.7) → its status + Warning.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDb, migratedTestDatabase } from '../../test/support/db.ts';
import { BOB, BOB_DESK, CLIENT, DOMAIN, PHONE, type Rig, SDP, TRUNK, answer, cdrOf, nextSeq, registerUser, requestsTo, responsesTo, rig } from '../../test/support/sip-call-rig.ts';
import type { Database } from '../db/client.ts';
import type { Endpoint } from '../sip/index.ts';
import { getHeader } from '../sip/index.ts';
import { TRYING_DELAY_MS } from '../sip/transactions.ts';
import { type CallPolicy, permissiveCallPolicy } from './policy.ts';

const DID = '+3243210002';

function carrierInvite(to: string, callId: string, from = '<sip:+32475123456@carrier.example>', extra: string[] = []): string {
  return [
    `INVITE sip:${to}@192.0.2.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP ${TRUNK.address}:${TRUNK.port};branch=z9hG4bK-carrier-${nextSeq()}`,
    'Max-Forwards: 70',
    `From: ${from};tag=carrier-${callId}`,
    `To: <sip:${to}@192.0.2.1>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:carrier@${TRUNK.address}:${TRUNK.port}>`,
    ...extra,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP)}`,
    '',
    SDP,
  ].join('\r\n');
}

describeEachDb('inbound calls from the carrier', (kind) => {
  let database: Database;
  let drop: () => Promise<void>;
  let r: Rig;
  const start = (policy?: CallPolicy): void => {
    r = rig(database, { env: { E2P_SIP_TRUNK: `sip:${TRUNK.address}` }, ...(policy === undefined ? {} : { policy }) });
    r.directory.addDid(DID, { clientId: CLIENT, userId: BOB });
    r.directory.addDid('+3243210009', { clientId: CLIENT, userId: null });
  };
  const deliver = async (text: string, from: Endpoint = TRUNK): Promise<void> => {
    r.udp.deliver(text, from);
    await r.server.idle();
  };
  beforeAll(async () => {
    ({ database, drop } = await migratedTestDatabase(kind));
  });
  afterAll(async () => drop());
  beforeEach(async () => {
    await database.db.execute('DELETE FROM sip_bindings');
  });
  afterEach(async () => {
    await r.server.close();
  });

  it('rings the registered phone of the DID without a challenge; 200 relayed; BYE from the phone ends it', async () => {
    start();
    await registerUser(database, r, BOB, 'bob', [BOB_DESK]);
    await deliver(carrierInvite(DID, 'in-1'));
    r.timers.advance(TRYING_DELAY_MS); // §17.2.1: the 100 Trying when the call has not rung by then
    expect(responsesTo(r, TRUNK).map((m) => m.status)).toEqual([100]);
    const [out] = requestsTo(r, BOB_DESK, 'INVITE');
    expect(getHeader(out!, 'From')).toMatch(/^<sip:\+32475123456@sip\.example\.be;user=phone>;tag=/u);
    expect(getHeader(out!, 'To')).toBe(`<sip:${DID}@${DOMAIN};user=phone>`);
    expect(Buffer.from(out!.body).toString()).toBe(SDP);
    answer(r, out!, 180, BOB_DESK, 'bob');
    answer(r, out!, 200, BOB_DESK, 'bob');
    expect(responsesTo(r, TRUNK).map((m) => m.status)).toEqual([100, 180, 200]);
    await r.server.idle();
    expect(await cdrOf(database, 'in-1')).toMatchObject([
      { direction: 'inbound', userId: BOB, dialled: DID, destination: DID, callerId: '+32475123456', allowed: true, sipStatus: 200, endedAt: null },
    ]);
  });

  it('challenges the same INVITE from an untrusted source (407)', async () => {
    start();
    await deliver(carrierInvite(DID, 'in-2'), PHONE);
    // The response follows the Via (received = the source address, no rport: port 5060).
    expect(responsesTo(r, { address: PHONE.address, port: 5060 }).at(-1)!.status).toBe(407);
    expect(await cdrOf(database, 'in-2')).toEqual([]);
  });

  it('answers 404 for a number that is not assigned', async () => {
    start();
    await deliver(carrierInvite('+3243219999', 'in-3'));
    expect(responsesTo(r, TRUNK).at(-1)!.status).toBe(404);
  });

  it('answers the refusal of decideInbound (minimum service, §8.7) with a Warning, and records it', async () => {
    start({ ...permissiveCallPolicy(), decideInbound: () => Promise.resolve({ allowed: false, sipStatus: 403, clause: '8.7', reason: 'Minimum service: inbound calls refused (§8.7)' }) });
    await registerUser(database, r, BOB, 'bob', [BOB_DESK]);
    await deliver(carrierInvite(DID, 'in-4'));
    const last = responsesTo(r, TRUNK).at(-1)!;
    expect(last.status).toBe(403);
    expect(getHeader(last, 'Warning')).toBe('399 easy2phone "clause 8.7: Minimum service: inbound calls refused (§8.7)"');
    expect(requestsTo(r, BOB_DESK, 'INVITE')).toEqual([]);
    expect(await cdrOf(database, 'in-4')).toMatchObject([{ direction: 'inbound', allowed: false, clause: '8.7', sipStatus: 403, endReason: 'refused' }]);
  });

  it('answers 480 for a DID of the client without a user to ring, or a user without a binding', async () => {
    start();
    await deliver(carrierInvite('+3243210009', 'in-5'));
    expect(responsesTo(r, TRUNK).at(-1)!.status).toBe(480);
    await deliver(carrierInvite(DID, 'in-6'));
    expect(responsesTo(r, TRUNK).at(-1)!.status).toBe(480);
    expect(await cdrOf(database, 'in-6')).toMatchObject([{ direction: 'inbound', sipStatus: 480, endReason: 'unavailable' }]);
  });

  it('presents an anonymous caller when the carrier withholds the number (Privacy: id)', async () => {
    start();
    await registerUser(database, r, BOB, 'bob', [BOB_DESK]);
    await deliver(carrierInvite(DID, 'in-7', '<sip:+32475123456@carrier.example>', ['Privacy: id']));
    const [out] = requestsTo(r, BOB_DESK, 'INVITE');
    expect(getHeader(out!, 'From')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>/u);
  });
});
