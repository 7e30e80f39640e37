import { describe, expect, it } from 'vitest';
import { FakeTransport } from '../../test/support/transport-fake.ts';
import { parseVia } from './headers.ts';
import { getHeader, type SipRequest } from './message.ts';
import { parseMessage } from './parser.ts';
import { responseDestination, stampReceived } from './routing.ts';

const request = (via: string, extra = ''): SipRequest => {
  const r = parseMessage(
    Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${via}\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2\r\nMax-Forwards: 70\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`),
  );
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture');
  return r.message;
};
const udp = new FakeTransport();
const tcp = new FakeTransport({ protocol: 'TCP' });

describe('stampReceived (RFC 3261 §18.2.1, RFC 3581)', () => {
  it('adds received when the sent-by differs from the source, and fills rport', () => {
    const r = stampReceived(request('Via: SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bK1'), { address: '203.0.113.9', port: 40000 });
    expect(r.via[0]).toMatchObject({ received: '203.0.113.9', rport: 40000, branch: 'z9hG4bK1' });
    expect(getHeader(r, 'Via')).toBe('SIP/2.0/UDP 10.0.0.2:5060;rport=40000;branch=z9hG4bK1;received=203.0.113.9');
    expect(r.via[1]?.host).toBe('proxy.example.com');
  });

  it('leaves a request from its sent-by address untouched', () => {
    const req = request('Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1');
    expect(stampReceived(req, { address: '203.0.113.9', port: 5060 })).toBe(req);
  });

  it.each([
    'Via: SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bK1',
    'Via: SIP/2.0/UDP 10.0.0.2:5060 ; RPORT ;branch=z9hG4bK1',
    'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK1;rport',
    'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK1',
    'Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1;rport',
    'Via: SIP/2.0/UDP h;received=198.51.100.1;rport;branch=z9hG4bK1',
  ])('gives the typed Via a parse of the stamped value would give: %s', (line) => {
    const r = stampReceived(request(line), { address: '203.0.113.9', port: 40000 });
    const stamped = parseVia(getHeader(r, 'Via')!);
    expect(stamped.ok && stamped.value).toEqual(r.via[0]);
    expect(r.via[0]!.rport === true).toBe(false);
  });

  it('stamps the first value of a comma-separated Via header', () => {
    const r = stampReceived(request('Via: SIP/2.0/UDP [2001:db8::1];rport;branch=z9hG4bK1, SIP/2.0/TCP h2;branch=z9hG4bK3'), { address: '2001:db8::1', port: 5062 });
    expect(r.via.map((v) => v.host)).toEqual(['[2001:db8::1]', 'h2', 'proxy.example.com']);
    expect(r.via[0]).toMatchObject({ rport: 5062, received: '2001:db8::1' });
  });
});

describe('responseDestination (RFC 3261 §18.2.2)', () => {
  const remote = { address: '203.0.113.9', port: 40000 };
  it.each([
    ['reliable: the connection', 'Via: SIP/2.0/TCP h:5070;branch=z9hG4bK1', tcp, remote],
    ['maddr', 'Via: SIP/2.0/UDP h:5070;maddr=239.1.1.1;branch=z9hG4bK1', udp, { address: '239.1.1.1', port: 5070 }],
    ['rport: source address and port', 'Via: SIP/2.0/UDP h:5070;rport=40000;received=203.0.113.9;branch=z9hG4bK1', udp, remote],
    ['received: that address, the sent-by port', 'Via: SIP/2.0/UDP h:5070;received=203.0.113.9;branch=z9hG4bK1', udp, { address: '203.0.113.9', port: 5070 }],
    ['sent-by, default port 5060', 'Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1', udp, { address: 'h.example.com', port: 5060 }],
  ] as const)('%s', (_name, via, transport, expected) => {
    expect(responseDestination(request(via).via[0]!, { transport, remote })).toEqual(expected);
  });
});
