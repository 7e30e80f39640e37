/**
 * The hand-written lexical checks (written for speed, issue #4) against the
 * grammar of RFC 3261 §25.1 written as regular expressions, on generated text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalName, canonicalNameAt } from './headers.ts';
import { parseMessage } from './parser.ts';
import { isHost, isIPv4, isToken, parsePort, parseUInt, splitList, trimWs } from './syntax.ts';

const DEC_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`, 'u');
const HOSTNAME = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?\.?$/iu;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/u;

/** Text made of the characters that matter to these checks, some non-ASCII (case folding: ſ is s, K is k). */
const text = (chars: string, maxLength = 12): fc.Arbitrary<string> =>
  fc.array(fc.nat({ max: chars.length - 1 }), { maxLength }).map((is) => is.map((i) => chars[i]).join(''));
const hostish = text('aZ09-.1255\u017f\u212a:[]', 16);
const digits = fc.oneof(text('0123456789', 20), text('0123456789 x+-.', 6));

const runs = { numRuns: 3000 };

describe('lexical checks agree with the grammar', () => {
  it('IPv4address (§25.1)', () => {
    fc.assert(fc.property(fc.oneof(hostish, fc.ipV4(), text('0123456789.', 16)), (s) => {
      expect(isIPv4(s)).toBe(IPV4.test(s));
    }), runs);
  });

  it('host = hostname / IPv4address (§25.1), hostname at most 255 characters', () => {
    fc.assert(
      fc.property(fc.oneof(hostish, fc.domain(), fc.ipV4()), (s) => {
        expect(isHost(s)).toBe(IPV4.test(s) || (s.length <= 255 && HOSTNAME.test(s)));
      }),
      runs,
    );
    expect(isHost('\u017fip.example')).toBe(true); // what the case-insensitive grammar regex says
    expect(isHost(`${'a.'.repeat(128)}b`)).toBe(false);
  });

  it('token (§25.1)', () => {
    fc.assert(fc.property(text('aZ9-.!%*_+`\'~ :;"\u00e9', 10), (s) => {
      expect(isToken(s)).toBe(TOKEN.test(s));
    }), runs);
  });

  it('ports and unsigned integers', () => {
    fc.assert(
      fc.property(digits, (s) => {
        expect(parsePort(s)).toBe(/^\d{1,5}$/u.test(s) && Number(s) <= 65535 ? Number(s) : undefined);
        const significant = s.replace(/^0+(?=\d)/u, '');
        const expected = /^\d+$/u.test(s) && significant.length <= 16 && Number(significant) <= 2 ** 32 - 1 ? Number(significant) : undefined;
        expect(parseUInt(s, 2 ** 32 - 1)).toBe(expected);
      }),
      runs,
    );
    expect(parseUInt('0000000000000000000042', 255)).toBe(42);
    expect(parseUInt('12345678901234567', Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });

  it('trims only SP and HTAB', () => {
    expect(trimWs(' \t\ufeffa b\t ')).toBe('\ufeffa b');
    expect(trimWs('ab')).toBe('ab');
  });

  it('splits single-element lists like longer ones', () => {
    expect(splitList(' <sip:a@b;x=1> ')).toEqual(['<sip:a@b;x=1>']);
    expect(splitList('<sip:a@b')).toBeUndefined();
    expect(splitList('a > b <')).toBeUndefined();
    expect(splitList('a < b >')).toEqual(['a < b >']);
  });
});

describe('header names read in place', () => {
  it('give the same name as canonicalName, whatever the spelling', () => {
    const name = fc.oneof(
      fc.constantFrom('Via', 'via', 'VIA', 'v', 'V', 'Call-ID', 'call-id', 'CALL-ID', 'Call-Id', 'i', 'CSeq', 'cseq', 'x', 'g', 'WWW-Authenticate', 'X-Foo', 'RAck', 'rack'),
      text('aCcDeiImMlLtTvV-', 8).filter((s) => s !== ''),
    );
    fc.assert(
      fc.property(name, (n) => {
        const text = `xx${n}: value`;
        expect(canonicalNameAt(text, 2, 2 + n.length)).toBe(canonicalName(n));
      }),
      runs,
    );
  });
});

describe('parsed bodies', () => {
  const request = (body: string): Buffer =>
    Buffer.from(
      `MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );

  it('are copies: independent of the receive buffer and of each other', () => {
    const first = request('hello');
    const second = request('world');
    const a = parseMessage(first);
    const b = parseMessage(second);
    if (!a.ok || !b.ok) throw new Error('does not parse');
    first.fill(0x21);
    second.fill(0x21);
    expect(Buffer.from(a.message.body).toString()).toBe('hello');
    expect(Buffer.from(b.message.body).toString()).toBe('world');
    a.message.body.fill(0x2a);
    expect(Buffer.from(b.message.body).toString()).toBe('world');
  });

  it('are empty when Content-Length is 0, and large ones are kept whole', () => {
    const empty = parseMessage(request(''));
    expect(empty.ok && empty.message.body.length).toBe(0);
    const large = 'x'.repeat(70_000);
    const r = parseMessage(request(large));
    expect(r.ok && Buffer.from(r.message.body).toString()).toBe(large);
  });
});
