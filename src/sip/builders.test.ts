import { describe, expect, it } from 'vitest';
import { buildRequest, buildResponse, newBranch, newCallId, newTag, randomToken, responseBytes, statelessTag } from './builders.ts';
import { MAGIC_COOKIE, type SipRequest, getHeader, toTag } from './message.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage, typedHeaders } from './parser.ts';
import { serializeMessage } from './serializer.ts';
import { parseUri, type Uri } from './uri.ts';

const uri = (s: string): Uri => {
  const r = parseUri(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const invite = (): SipRequest => {
  const r = parseMessage(
    Buffer.from(
      [
        'INVITE sip:bob@biloxi.example.com SIP/2.0',
        'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKnashds8',
        'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1',
        'Record-Route: <sip:p1.example.com;lr>',
        'Max-Forwards: 69',
        'To: Bob <sip:bob@biloxi.example.com>',
        'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
        'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
        'CSeq: 314159 INVITE',
        'Timestamp: 54',
        'Contact: <sip:alice@pc33.atlanta.example.com>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  );
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture');
  return r.message;
};

describe('identifiers', () => {
  it('makes RFC 3261 branches, tags and Call-IDs that are tokens and unique', () => {
    const branches = new Set(Array.from({ length: 100 }, newBranch));
    expect(branches.size).toBe(100);
    for (const b of branches) expect(b).toMatch(new RegExp(`^${MAGIC_COOKIE}[0-9a-f]{24}$`, 'u'));
    expect(newTag()).toMatch(/^[0-9a-f]{16}$/u);
    expect(newCallId('example.com')).toMatch(/^[0-9a-f]{32}@example\.com$/u);
  });

  it('never spells a header name in a tag, branch or Call-ID (peers that search the raw text for "CSeq" take it for the header)', () => {
    // 20 000 tokens of 64 bytes: in base64url "CSeq" came once in ≈ 2 million 11-character tags.
    const text = Array.from({ length: 20_000 }, () => randomToken(64)).join('');
    expect(text).toMatch(/^[0-9a-f]+$/u);
    for (const name of ['CSeq', 'Call-ID', 'Via', 'From', 'To', 'Contact', 'Content-Length', 'Max-Forwards']) expect(text.includes(name)).toBe(false);
  });

  it('draws every token from fresh bytes of the pool, across its refills', () => {
    // 12 does not divide the 4 KiB pool: the refill must not hand out a short or repeated token.
    const tokens = Array.from({ length: 3000 }, (_, i) => randomToken(i % 2 === 0 ? 12 : 16));
    expect(new Set(tokens).size).toBe(3000);
    for (const [i, t] of tokens.entries()) expect(t).toHaveLength(i % 2 === 0 ? 24 : 32);
    expect(randomToken(4096)).toHaveLength(8192);
  });
});

describe('buildResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via, From, To, Call-ID, CSeq and adds a To tag', () => {
    const res = buildResponse(invite(), 486, { toTag: 'xyz' });
    expect(res.reason).toBe('Busy Here');
    expect(res.via.map((v) => v.branch)).toEqual(['z9hG4bKnashds8', 'z9hG4bK776asdhds']);
    expect(toTag(res)).toBe('xyz');
    expect(res.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(res.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(getHeader(res, 'Record-Route')).toBeUndefined();
    expect(res.contentLength).toBe(0);
  });

  it('copies Record-Route into dialog-creating responses, Timestamp into 100, no tag on 100', () => {
    const ringing = buildResponse(invite(), 180);
    expect(getHeader(ringing, 'Record-Route')).toBe('<sip:p1.example.com;lr>');
    const trying = buildResponse(invite(), 100);
    expect(toTag(trying)).toBeUndefined();
    expect(getHeader(trying, 'Timestamp')).toBe('54');
  });

  it('serialises to a message that parses to the same thing', () => {
    const res = buildResponse(invite(), 200, { content: { type: 'application/sdp', body: Buffer.from('v=0\r\n') }, headers: [{ name: 'Contact', value: '<sip:bob@192.0.2.4>' }] });
    expect(parseMessage(serializeMessage(res))).toEqual({ ok: true, message: res });
  });
});

describe('buildRequest (RFC 3261 §8.1.1)', () => {
  it('builds a request with a fresh branch and a consistent Content-Length', () => {
    const req = buildRequest({
      method: 'INVITE',
      uri: uri('sip:+3221234567@trunk.example.net'),
      from: { displayName: undefined, uri: uri('sip:alice@easy2phone.be'), params: new Map([['tag', 'a1']]) },
      to: { displayName: '"Bob"', uri: uri('sip:+3221234567@trunk.example.net'), params: new Map() },
      callId: 'c1',
      cseq: 1,
      via: { transport: 'UDP', host: '192.0.2.10', port: 5060, rport: true },
      contact: { displayName: undefined, uri: uri('sip:b2bua@192.0.2.10'), params: new Map() },
      content: { type: 'application/sdp', body: Buffer.from('v=0\r\n') },
    });
    expect(req.via[0]?.branch?.startsWith(MAGIC_COOKIE)).toBe(true);
    expect(req.via[0]?.rport).toBe(true);
    expect(req.maxForwards).toBe(70);
    expect(req.contentLength).toBe(5);
    const again = parseMessage(serializeMessage(req));
    expect(again).toEqual({ ok: true, message: req });
  });

  it('throws on inputs that cannot make a valid message (a programming error)', () => {
    expect(() =>
      buildRequest({
        method: 'OPTIONS', uri: uri('sip:a@b'), from: { displayName: 'bad, name', uri: uri('sip:a@b'), params: new Map() },
        to: { displayName: undefined, uri: uri('sip:a@b'), params: new Map() }, callId: 'c', cseq: 1, via: { transport: 'UDP', host: 'h' },
      }),
    ).toThrow(TypeError);
  });
});

describe('buildRequest takes its typed views from its options (issue #4: no parsing again)', () => {
  const fixtures = readdirSync('test/fixtures/sip/valid')
    .map((f) => parseMessage(readFileSync(join('test/fixtures/sip/valid', f))))
    .flatMap((r) => (r.ok && r.message.kind === 'request' ? [r.message] : []));
  const requests: SipRequest[] = [invite(), ...fixtures];

  it('gives what parsing the built headers gives, for the name-addrs of every valid fixture', () => {
    let direct = 0;
    for (const r of requests) {
      for (const method of ['INVITE', 'BYE', 'ACK']) {
        const contact = r.contact.find((c) => !c.star);
        const req = buildRequest({
          method,
          uri: r.uri,
          from: r.from,
          to: r.to,
          callId: 'abc@192.0.2.10',
          cseq: 2,
          via: { transport: 'udp', host: '192.0.2.10', port: 5060, rport: method !== 'ACK' },
          maxForwards: 69,
          ...(contact === undefined ? {} : { contact }),
          route: r.recordRoute,
          headers: [{ name: 'Allow', value: 'INVITE, ACK, BYE' }, { name: 'P-Asserted-Identity', value: '<sip:+3221234567@easy2phone.be>' }],
        });
        const typed = typedHeaders(req.headers);
        expect(typed.ok).toBe(true);
        if (typed.ok) expect(req).toEqual({ ...req, ...typed.value });
        expect(parseMessage(serializeMessage(req))).toEqual({ ok: true, message: req });
        if (req.from === r.from) direct += 1;
      }
    }
    expect(direct).toBeGreaterThan(requests.length); // most took the direct path
  });

  it('parses the headers when an extra header names a typed one, or a display name is not plain', () => {
    const from = { displayName: '"A \\"quoted\\" name"', uri: uri('sip:a@b'), params: new Map([['tag', 'x']]) };
    const to = { displayName: undefined, uri: uri('sip:b@c'), params: new Map() };
    const base = { method: 'OPTIONS', uri: uri('sip:b@c'), from, to, callId: 'c', cseq: 1, via: { transport: 'UDP', host: '192.0.2.1' } };
    expect(buildRequest(base).from).not.toBe(from);
    const withExpires = buildRequest({ ...base, from: { ...from, displayName: undefined }, headers: [{ name: 'Expires', value: '60' }] });
    expect(withExpires.from).toEqual({ ...from, displayName: undefined });
    expect(() => buildRequest({ ...base, headers: [{ name: 'From', value: '<sip:other@x>' }] })).toThrow(TypeError);
  });
});

describe('buildResponse keeps the typed views of the request (issue #4: no parsing again)', () => {
  const fixtures = readdirSync('test/fixtures/sip/valid')
    .map((f) => parseMessage(readFileSync(join('test/fixtures/sip/valid', f))))
    .flatMap((r) => (r.ok && r.message.kind === 'request' ? [r.message] : []));
  const requests: SipRequest[] = [invite(), ...fixtures];
  const options = [
    {},
    { toTag: 'abc123' },
    { headers: [{ name: 'Contact', value: '<sip:b2bua@192.0.2.9:5060>;expires=60' }, { name: 'Allow', value: 'INVITE, ACK, BYE' }] },
    { headers: [{ name: 'Contact', value: '<sip:a@x>, <sip:b@y>' }, { name: 'Contact', value: 'sip:c@z' }] },
    { content: { type: 'application/sdp', body: Buffer.from('v=0\r\n') } },
    { headers: [{ name: 'Record-Route', value: '<sip:p9.example.com;lr>' }] }, // a typed header among the extras: parsed
  ];

  it.each([100, 180, 200, 407, 486])('gives the views a parse of its own headers gives, status %i', (status) => {
    expect(requests.length).toBeGreaterThan(5);
    for (const req of requests) {
      for (const o of options) {
        const built = buildResponse(req, status, o);
        const typed = typedHeaders(built.headers);
        expect(typed.ok).toBe(true);
        if (!typed.ok) continue;
        const { kind, status: s, reason, headers, body, ...views } = built;
        expect(views).toEqual(typed.value);
        expect([kind, s, reason, headers.length, body.length]).toEqual(['response', status, built.reason, built.headers.length, o.content?.body.length ?? 0]);
      }
    }
  });

  it('refuses an invalid Contact as before', () => {
    expect(() => buildResponse(invite(), 200, { headers: [{ name: 'Contact', value: '*' }, { name: 'Contact', value: '<sip:a@x>' }] })).toThrow(/Contact \* mixed/);
    expect(() => buildResponse(invite(), 200, { headers: [{ name: 'Contact', value: '<sip:a@x' }] })).toThrow(/invalid Contact/);
  });
});

describe('serializeMessage', () => {
  it('gives bytes kept after sending an allocation of their own, the same bytes (issue #4: no pinned pool slab)', () => {
    const res = buildResponse(invite(), 486, { toTag: 'x' });
    const withBody = buildResponse(invite(), 200, { toTag: 'x', content: { type: 'application/sdp', body: Buffer.from('v=0\r\n') } });
    for (const m of [res, withBody]) {
      const sent = serializeMessage(m);
      const kept = serializeMessage(m, true);
      expect(Buffer.from(kept).equals(Buffer.from(sent))).toBe(true);
      expect(kept.buffer.byteLength).toBe(kept.byteLength);
      expect(sent.buffer.byteLength).toBeGreaterThan(sent.byteLength); // a slice of the pool
    }
  });
});

describe('responseBytes: a final response written from the request\'s header values (issue #4)', () => {
  const request = (lines: readonly string[]): SipRequest => {
    const r = parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'));
    if (!r.ok || r.message.kind !== 'request') throw new Error(r.ok ? 'not a request' : r.error.reason);
    return r.message;
  };
  const register = (lines: readonly string[] = []): SipRequest =>
    request([
      'REGISTER sip:example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.4:5070;branch=z9hG4bK-77;rport=5070;received=198.51.100.9',
      'Max-Forwards: 70',
      'From: "Ann B" <sip:ann@example.com>;tag=a1',
      'To: <sip:ann@example.com>',
      'Call-ID: 8c1@192.0.2.4',
      'CSeq: 2 REGISTER',
      'Contact: <sip:ann@192.0.2.4:5070>',
      ...lines,
      'Content-Length: 0',
    ]);
  const extra = [{ name: 'WWW-Authenticate', value: 'Digest realm="example.com", nonce="abc", qop="auth"' }];
  it('statelessTag: the same tag for the same request (a retransmission), another for any other request (RFC 3261 §8.2.7)', () => {
    const lines = ['REGISTER sip:example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.4:5070;branch=z9hG4bK-77', 'Max-Forwards: 70', 'From: <sip:ann@example.com>;tag=a1', 'To: <sip:ann@example.com>', 'Call-ID: 8c1@192.0.2.4', 'CSeq: 2 REGISTER', 'Content-Length: 0'];
    /** The tag of the request with line `i` replaced. */
    const tagWith = (i: number, line: string): string => statelessTag(request(lines.map((l, k) => (k === i ? line : l))));
    const tag = statelessTag(request(lines));
    expect(tag).toMatch(/^[0-9a-f]{16}$/u);
    expect(statelessTag(request(lines))).toBe(tag);
    expect(tagWith(2, 'Max-Forwards: 69')).toBe(tag); // what the tag does not read changes nothing
    const others = [
      tagWith(1, 'Via: SIP/2.0/UDP 192.0.2.4:5070;branch=z9hG4bK-78'),
      tagWith(3, 'From: <sip:ann@example.com>;tag=a2'),
      tagWith(5, 'Call-ID: 8c2@192.0.2.4'),
      tagWith(6, 'CSeq: 3 REGISTER'),
    ];
    expect(new Set([tag, ...others]).size).toBe(5);
  });

  /** What the typed path writes: `buildResponse`, `Server` before Content-Length, serialised. */
  const typed = (req: SipRequest, status: number): string =>
    Buffer.from(serializeMessage(buildResponse(req, status, { toTag: 'T1', headers: [...extra, { name: 'Server', value: 'E2P' }] }))).toString('utf8');
  const fast = (req: SipRequest, status: number, kept = true): string =>
    Buffer.from(responseBytes(req, status, { toTag: 'T1', headers: extra, server: 'E2P' }, kept)!).toString('utf8');

  it('copies Via, From, To (+ tag), Call-ID and CSeq byte for byte as received (§8.2.6.2)', () => {
    const text = fast(register(), 401);
    expect(text.split('\r\n')).toEqual([
      'SIP/2.0 401 Unauthorized',
      'Via: SIP/2.0/UDP 192.0.2.4:5070;branch=z9hG4bK-77;rport=5070;received=198.51.100.9',
      'From: "Ann B" <sip:ann@example.com>;tag=a1',
      'To: <sip:ann@example.com>;tag=T1',
      'Call-ID: 8c1@192.0.2.4',
      'CSeq: 2 REGISTER',
      'WWW-Authenticate: Digest realm="example.com", nonce="abc", qop="auth"',
      'Server: E2P',
      'Content-Length: 0',
      '',
      '',
    ]);
    expect(text).toBe(typed(register(), 401));
    expect(fast(register(), 200, false)).toBe(typed(register(), 200));
  });

  it('writes what the typed path writes for compact names, several Vias, folded lines, a To tag already there, UTF-8', () => {
    const cases: string[][] = [
      ['REGISTER sip:example.com SIP/2.0', 'v: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK-1', 'f: <sip:ann@example.com>;tag=a1', 't: <sip:ann@example.com>', 'i: c1@x', 'CSeq: 1 REGISTER', 'Content-Length: 0'],
      ['REGISTER sip:example.com SIP/2.0', 'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK-2, SIP/2.0/TCP p2.example.com;branch=z9hG4bK-3', 'From: <sip:ann@example.com>;tag=a1', 'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK-4', 'To: <sip:ann@example.com>', 'Call-ID: c2@x', 'CSeq: 1 REGISTER', 'Content-Length: 0'],
      ['REGISTER sip:example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.4', '  ;branch=z9hG4bK-5', 'From: "Ann"', '\t<sip:ann@example.com>;tag=a1', 'To  :  <sip:ann@example.com>  ', 'Call-ID: c3@x', 'CSeq:   7   REGISTER', 'Content-Length: 0'],
      ['REGISTER sip:example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK-6', 'From: "Ånn Bé" <sip:ann@example.com>;tag=a1', 'To: <sip:ann@example.com>;tag=already', 'Call-ID: c4@x', 'CSeq: 1 REGISTER', 'Content-Length: 0'],
    ];
    for (const lines of cases) {
      const req = request(lines);
      for (const status of [200, 401, 403, 500]) expect(fast(req, status)).toBe(typed(req, status));
    }
    const multi = fast(request(cases[1]!), 401);
    expect(multi.match(/^Via: .*$/gmu)).toEqual(['Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK-2, SIP/2.0/TCP p2.example.com;branch=z9hG4bK-3', 'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK-4']);
    expect(fast(request(cases[3]!), 200)).toContain('\r\nTo: <sip:ann@example.com>;tag=already\r\n');
  });

  it('leaves to the typed path a provisional response and a 2xx to a dialog-creating request', () => {
    expect(responseBytes(register(), 100)).toBeUndefined();
    expect(responseBytes(register(), 180)).toBeUndefined();
    expect(responseBytes(invite(), 200)).toBeUndefined();
    expect(Buffer.from(responseBytes(invite(), 486, { toTag: 'T2' })!).toString()).toBe(Buffer.from(serializeMessage(buildResponse(invite(), 486, { toTag: 'T2' }))).toString());
  });

  it('gives a final response kept for retransmissions an allocation of its own, not a slice of the pool', () => {
    const kept = responseBytes(register(), 200)!;
    expect(kept.byteOffset).toBe(0);
    expect(kept.buffer.byteLength).toBe(kept.byteLength);
  });
});
