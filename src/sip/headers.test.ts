import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAnyVia, parseVia } from './headers.ts';

describe('parseVia: the usual via-parm read by index gives what the scanner gives (issue #4)', () => {
  it('on the Vias of a call', () => {
    for (const v of [
      'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-12-1;rport',
      'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabcdef;rport=5061;received=10.0.0.1',
      'SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK776asdhds',
      'SIP/2.0/UDP 10.0.0.1',
      'SIP/2.0/UDP 10.0.0.1:5060',
      'SIP/2.0/UDP 10.0.0.1:5060 ;branch=x',
      'SIP/2.0/UDP 10.0.0.1:99999;branch=x',
      'SIP/2.0/UDP 10.0.0.1:;branch=x',
      'SIP/2.0/UDP 10.0.0.1:5060;branch',
      'SIP/2.0/UDP 10.0.0.1;branch=a;branch=b',
      'SIP/2.0/UDP 10.0.0.1;rport=0',
      'SIP/2.0/UDP 10.0.0.1;ttl=256',
      'SIP/2.0/UDP 10.0.0.1;received=[::1]',
      'SIP/2.0/UDP 10.0.0.1;received=host.example',
      'SIP/2.0/UDP 256.0.0.1;branch=x',
      'SIP/2.0/UDP 01.2.3.4;branch=x',
      'SIP/2.0/UDP 1.2.3.4a;branch=x',
      'SIP/2.0/UDP  1.2.3.4',
      'SIP/2.0/udp 1.2.3.4',
      'SIP/2.0/UDP 1.2.3.4;',
      'SIP/2.0/UDP 1.2.3.4;branch=x ',
      'SIP/2.0/UDP 1.2.3.4:5060x',
      'SIP/2.0/ 1.2.3.4',
    ]) {
      expect(parseVia(v), v).toEqual(parseAnyVia(v));
    }
  });

  it('on generated texts near the usual form', () => {
    const part = fc.constantFrom(
      'SIP/2.0/', 'SIP/2.0/UDP ', 'SIP/2.0/TCP ', 'sip/2.0/udp ', 'UDP', ' ', '\t', '127.0.0.1', '10.0.0.', '1', '256', '.', ':', '5060',
      '65536', '0', ';', 'branch', '=', 'z9hG4bK-1', 'rport', 'received', 'ttl', 'maddr', '[::1]', 'host.example', ',', '"q"', 'x', 'A',
    );
    const text = fc.array(part, { maxLength: 14 }).map((ps) => ps.join(''));
    const usual = fc
      .tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'X'), fc.array(fc.nat(300), { minLength: 4, maxLength: 4 }), fc.option(fc.nat(70_000)), text)
      .map(([t, ip, port, rest]) => `SIP/2.0/${t} ${ip.join('.')}${port === null ? '' : `:${port}`}${rest}`);
    fc.assert(
      fc.property(fc.oneof(text, usual), (v) => {
        expect(parseVia(v)).toEqual(parseAnyVia(v));
      }),
      { numRuns: 5000 },
    );
  });
});
