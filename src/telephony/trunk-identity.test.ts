/** The identity headers towards the carrier (RFC 3323/3325, §17.1, §8.7) and what a phone or carrier presents. */
import { describe, expect, it } from 'vitest';
import { parseMessage, type SipRequest } from '../sip/index.ts';
import { carrierCallerNumber, presentedCallerId, wantsPrivacy } from './route-targets.ts';
import { ANONYMOUS_FROM, trunkIdentity } from './trunk-identity.ts';

const base = { domain: 'sip.example.be', privacy: false, emergency: false };

function request(from: string, extra: string[] = []): SipRequest {
  const r = parseMessage(
    Buffer.from(
      [
        'INVITE sip:0475123456@sip.example.be SIP/2.0',
        'Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-1',
        `From: ${from};tag=a`,
        'To: <sip:0475123456@sip.example.be>',
        'Call-ID: c',
        'CSeq: 1 INVITE',
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  );
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad test request');
  return r.message;
}

describe('trunkIdentity', () => {
  it('presents the policy caller ID in From and P-Asserted-Identity', () => {
    expect(trunkIdentity({ ...base, callerId: '+3243210001', trueIdentity: '+3243210001' })).toEqual({
      from: '<sip:+3243210001@sip.example.be;user=phone>',
      presented: '+3243210001',
      headers: [{ name: 'P-Asserted-Identity', value: '<sip:+3243210001@sip.example.be;user=phone>' }],
    });
  });

  it('under privacy: anonymous From, Privacy: id, the true identity only in PAI', () => {
    expect(trunkIdentity({ ...base, privacy: true, callerId: null, trueIdentity: '+3243210001' })).toEqual({
      from: ANONYMOUS_FROM,
      presented: null,
      headers: [
        { name: 'P-Asserted-Identity', value: '<sip:+3243210001@sip.example.be;user=phone>' },
        { name: 'Privacy', value: 'id' },
      ],
    });
  });

  it('without any number: anonymous, nothing asserted', () => {
    expect(trunkIdentity({ ...base, callerId: null, trueIdentity: null })).toEqual({ from: ANONYMOUS_FROM, presented: null, headers: [] });
  });

  it('§8.7: an emergency call shows the callback number even under privacy', () => {
    expect(trunkIdentity({ ...base, emergency: true, privacy: true, callerId: null, trueIdentity: '+3243210001' }).presented).toBe('+3243210001');
  });
});

describe('what the caller presents', () => {
  const caller = { extension: '201', username: '201.acme' };
  it('ignores the phone’s own extension or username, reads numbers as E.164', () => {
    expect(presentedCallerId(request('<sip:201@sip.example.be>'), caller)).toBeNull();
    expect(presentedCallerId(request('<sip:201.acme@sip.example.be>'), caller)).toBeNull();
    expect(presentedCallerId(request('<sip:043210001@sip.example.be>'), caller)).toBe('+3243210001');
    expect(presentedCallerId(request('<sip:201@sip.example.be>', ['P-Preferred-Identity: <sip:+3222222222@sip.example.be>']), caller)).toBe('+3222222222');
    expect(presentedCallerId(request('<sip:+3222222222@sip.example.be>', ['Privacy: id']), caller)).toBeNull();
  });

  it('privacy: Privacy id/user/header or an anonymous From', () => {
    expect(wantsPrivacy(request('<sip:201@x.be>', ['Privacy: id']))).toBe(true);
    expect(wantsPrivacy(request('"Anonymous" <sip:anonymous@anonymous.invalid>'))).toBe(true);
    expect(wantsPrivacy(request('<sip:201@x.be>', ['Privacy: none']))).toBe(false);
  });

  it('a carrier: PAI first, then From; a + added when missing; withheld under Privacy', () => {
    expect(carrierCallerNumber(request('<sip:32475123456@carrier>'))).toBe('+32475123456');
    expect(carrierCallerNumber(request('<sip:unknown@carrier>', ['P-Asserted-Identity: <tel:+32475123456>']))).toBe('+32475123456');
    expect(carrierCallerNumber(request('<sip:+32475123456@carrier>', ['Privacy: id']))).toBeNull();
    expect(carrierCallerNumber(request('<sip:anonymous@anonymous.invalid>'))).toBeNull();
  });
});
