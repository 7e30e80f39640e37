import { describe, expect, it } from 'vitest';
import type { SipRequest } from './message.ts';
import { parseMessage } from './parser.ts';
import { checkRequest } from './semantics.ts';

const request = (uri: string, extra = ''): SipRequest => {
  const r = parseMessage(
    Buffer.from(`OPTIONS ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`),
  );
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture');
  return r.message;
};

describe('checkRequest', () => {
  it('accepts a GMT Date and the supported schemes', () => {
    expect(checkRequest(request('sip:a@b', 'Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n'))).toBeUndefined();
    expect(checkRequest(request('sips:a@b'))).toBeUndefined();
    expect(checkRequest(request('tel:+3221234567'))).toBeUndefined();
  });

  it('refuses other schemes with 416 and a Date out of GMT with 400', () => {
    expect(checkRequest(request('mailto:a@b'))?.status).toBe(416);
    expect(checkRequest(request('sip:a@b', 'Date: Sat, 13 Nov 2010 23:29:00 CET\r\n'))?.status).toBe(400);
  });
});
