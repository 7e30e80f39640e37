import { describe, expect, it } from 'vitest';
import { canonicalName, parseCSeq, parseNameAddr, parseVia } from './headers.ts';
import { contactExpires, contactQ, getExpires, getHeader, getHeaderValues } from './message.ts';
import { parseMessage } from './parser.ts';
import { serializeMessage } from './serializer.ts';
import { splitList, unquote } from './syntax.ts';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));
const options = (extra: string[] = [], body = ''): Buffer =>
  crlf(
    'OPTIONS sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'To: <sip:bob@example.com>',
    'From: "Alice" <sip:alice@example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710',
    'CSeq: 63104 OPTIONS',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  );

describe('header values', () => {
  it('normalises names and compact forms', () => {
    expect(['v', 'VIA', 'i', 'call-id', 'l', 'M', 'k', 'x-custom'].map(canonicalName)).toEqual([
      'Via', 'Via', 'Call-ID', 'Call-ID', 'Content-Length', 'Contact', 'Supported', 'x-custom',
    ]);
  });

  it('splits lists outside quotes and <>', () => {
    expect(splitList('"a, b" <sip:x@y;p=1,2>, <sip:z@w>')).toEqual(['"a, b" <sip:x@y;p=1,2>', '<sip:z@w>']);
    expect(splitList('"open, ')).toBeUndefined();
    expect(unquote('"a \\"b\\" \\\\"')).toBe('a "b" \\');
  });

  it('parses Via parameters', () => {
    const r = parseVia('SIP/2.0/tcp [2001:db8::1]:5061;branch=z9hG4bKx;received=192.0.2.9;rport=4000;maddr=224.0.0.1;ttl=16');
    expect(r.ok && r.value).toMatchObject({ transport: 'TCP', host: '[2001:db8::1]', port: 5061, branch: 'z9hG4bKx', received: '192.0.2.9', rport: 4000, maddr: '224.0.0.1', ttl: 16 });
    for (const bad of ['SIP/2.0/UDP', 'SIP/2.0 UDP host', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP host;ttl=256', 'SIP/2.0/UDP host;received=x', 'SIP/2.0/UDP host;rport=0x', 'SIP/2.0/UDP host;branch', 'HTTP/1.1/TCP host']) {
      expect(parseVia(bad).ok, bad).toBe(false);
    }
  });

  it('parses name-addr and addr-spec with their parameter rule', () => {
    const a = parseNameAddr('sip:bob@example.com;tag=88');
    expect(a.ok && [a.value.params.get('tag'), a.value.uri]).toEqual(['88', expect.objectContaining({ params: new Map() })]);
    const b = parseNameAddr('Bob Smith <sip:bob@example.com;transport=udp>;tag=x');
    expect(b.ok && [b.value.displayName, b.value.params.get('tag')]).toEqual(['Bob Smith', 'x']);
    for (const bad of ['"unterminated <sip:a@b>', '<sip:a@b', 'sip:a@b?x=y', 'a,b <sip:a@b>', '<sip:a@b>;;', '< sip:a@b>', '<sip:a@b> junk']) {
      expect(parseNameAddr(bad).ok, bad).toBe(false);
    }
  });

  it('bounds CSeq to 2^31-1', () => {
    expect(parseCSeq('2147483647 INVITE')).toEqual({ ok: true, value: { seq: 2147483647, method: 'INVITE' } });
    expect(parseCSeq('2147483648 INVITE').ok).toBe(false);
    expect(parseCSeq('12').ok).toBe(false);
  });
});

describe('parseMessage', () => {
  it('parses a request and gives typed and raw views', () => {
    const r = parseMessage(options(['Contact: <sip:alice@pc33.example.com>;expires=3600;q=0.7, *', 'Expires: 99999999999']));
    expect(r.ok).toBe(false);
    const ok = parseMessage(options(['Contact: <sip:alice@pc33.example.com>;expires=3600;q=0.7', 'Expires: 99999999999', 'Supported: path', 'k: outbound']));
    if (!ok.ok) throw new Error(ok.error.reason);
    const m = ok.message;
    expect(m.via[0]).toMatchObject({ host: '192.0.2.1', port: 5060, rport: true });
    expect(getExpires(m)).toBe(2 ** 32 - 1);
    expect(getHeaderValues(m, 'supported')).toEqual(['path', 'outbound']);
    expect(getHeader(m, 'i')).toBe('a84b4c76e66710');
  });

  it('gives the absent Contact, Route and Record-Route one shared, frozen empty list; present ones their own (issue #4)', () => {
    const a = parseMessage(options());
    const b = parseMessage(options(['Route: <sip:p1.example.com;lr>', 'Record-Route: <sip:p2.example.com;lr>', 'Route: <sip:p3.example.com;lr>', 'Contact: <sip:alice@pc33.example.com>']));
    if (!a.ok || !b.ok) throw new Error('parse failed');
    expect(a.message.contact).toEqual([]);
    expect(a.message.route).toBe(a.message.recordRoute);
    expect(a.message.route).toBe(a.message.contact);
    expect(Object.isFrozen(a.message.route)).toBe(true);
    expect(b.message.route.map((r) => r.uri)).toMatchObject([{ host: 'p1.example.com' }, { host: 'p3.example.com' }]);
    expect(b.message.recordRoute.map((r) => r.uri)).toMatchObject([{ host: 'p2.example.com' }]);
    expect(b.message.contact).toHaveLength(1);
    expect(Object.isFrozen(b.message.route)).toBe(false);
  });

  it('names the first single header repeated (in SINGLE_HEADERS order) and keeps a request with Via and CSeq answerable', () => {
    const twice = parseMessage(options(['Content-Type: a/b', 'c: a/b', 'To: <sip:x@example.com>']));
    expect(twice.ok).toBe(false);
    if (twice.ok) return;
    expect(twice.error.reason).toBe('more than one To header');
    expect(twice.error.request?.method).toBe('OPTIONS');
    const types = parseMessage(options(['Content-Type: a/b', 'c: a/b', 'Expires: 1', 'Expires: 2']));
    expect(!types.ok && types.error.reason).toBe('more than one Expires header');
    const noCSeq = parseMessage(Buffer.from(options(['From: <sip:y@example.com>;tag=2']).toString().replace('CSeq: 63104 OPTIONS\r\n', '')));
    expect(!noCSeq.ok && [noCSeq.error.reason, noCSeq.error.request]).toEqual(['more than one From header', undefined]);
  });

  it('finds headers built by hand under any spelling of their name, and only those', () => {
    const m = {
      headers: [
        { name: 'v', value: 'SIP/2.0/UDP a.example.com' },
        { name: 'x-foo', value: 'lower' },
        { name: 'X-Fo', value: 'shorter' },
        { name: 'X-FOO', value: 'upper' },
        { name: 'SUPPORTED', value: 'path, , outbound' },
        { name: 'Via', value: 'SIP/2.0/TCP b.example.com' },
      ],
    };
    expect(getHeaderValues(m, 'Via')).toEqual(['SIP/2.0/UDP a.example.com', 'SIP/2.0/TCP b.example.com']);
    expect(getHeaderValues(m, 'v')).toEqual(['SIP/2.0/UDP a.example.com', 'SIP/2.0/TCP b.example.com']);
    expect(getHeaderValues(m, 'X-Foo')).toEqual(['lower', 'upper']);
    expect(getHeader(m, 'x-fo')).toBe('shorter');
    expect(getHeaderValues(m, 'k')).toEqual(['path', 'outbound']);
    expect(getHeaderValues(m, 'Require')).toEqual([]);
    expect(getHeader(m, 'X-Foo-Bar')).toBeUndefined();
  });

  it('reads Contact expires and q', () => {
    const r = parseMessage(options(['Contact: <sip:a@pc33.example.com>;expires=3600;q=0.7, <sip:b@pc34.example.com>', 'Expires: soon']));
    if (!r.ok) throw new Error(r.error.reason);
    expect(r.message.contact.map(contactExpires)).toEqual([3600, undefined]);
    expect(r.message.contact.map(contactQ)).toEqual([0.7, 1]);
    expect(getExpires(r.message)).toBeUndefined();
    expect(parseMessage(options(['Contact: <sip:a@b>;q=1.5'])).ok).toBe(false);
  });

  it('parses what softphones send: outbound contact with +sip.instance, IPv6 Via with rport', () => {
    const r = parseMessage(
      options([
        'Via: SIP/2.0/UDP [fd00::2]:5062;rport;branch=z9hG4bKPj6c8e;alias',
        'Contact: <sip:1001@10.0.0.2:5060;ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"',
        'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS',
        'User-Agent: Linphone/5.2 (belle-sip/5.2)',
      ]),
    );
    if (!r.ok) throw new Error(r.error.reason);
    const c = r.message.contact[0];
    if (c === undefined || c.star) throw new Error('contact expected');
    expect(c.params.get('+sip.instance')).toBe('"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"');
    expect(r.message.via[1]).toMatchObject({ host: '[fd00::2]', port: 5062, rport: true });
    expect(getHeaderValues(r.message, 'Allow')).toHaveLength(5);
  });

  it('accepts Contact: * alone', () => {
    const r = parseMessage(options(['Contact: *', 'Expires: 0']));
    expect(r.ok && r.message.contact).toEqual([{ star: true }]);
  });

  it('reads the body by Content-Length, discarding extra datagram bytes', () => {
    const data = Buffer.concat([options([], 'hello'), Buffer.from('garbage')]);
    const r = parseMessage(data);
    expect(r.ok && Buffer.from(r.message.body).toString()).toBe('hello');
  });

  it.each([
    ['no blank line', Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: x')],
    ['bare LF', Buffer.from('OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\r\n\r\n')],
    ['invalid UTF-8', Buffer.concat([Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX: '), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n\r\n')])],
    ['bad header name', crlf('OPTIONS sip:a@b SIP/2.0', 'Bad Name: x', '', '')],
    ['status 700', crlf('SIP/2.0 700 Nope', 'Via: SIP/2.0/UDP h', '', '')],
  ])('refuses %s', (_name, data) => {
    expect(parseMessage(data).ok).toBe(false);
  });

  it('round-trips through the serializer', () => {
    const first = parseMessage(options(['Route: <sip:p1.example.com;lr>', 'x-long:  folded', '  value'], 'v=0\r\n'));
    if (!first.ok) throw new Error(first.error.reason);
    const again = parseMessage(serializeMessage(first.message));
    if (!again.ok) throw new Error(again.error.reason);
    expect(again.message).toEqual(first.message);
    expect(getHeader(again.message, 'X-Long')).toBe('folded value');
  });
});
