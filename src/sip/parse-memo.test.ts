/**
 * `ParseMemo` (issue #4): the name-addr and URI parses of texts seen lately are shared
 * values, given back as the parse gives them, bounded, and never changed by their users.
 */
import { describe, expect, it } from 'vitest';
import { buildResponse } from './builders.ts';
import { parseCSeq, parseNameAddr } from './headers.ts';
import { type SipRequest, toTag } from './message.ts';
import { parseMessage } from './parser.ts';
import { ParseMemo, fail, ok } from './syntax.ts';
import { parseUri } from './uri.ts';

const request = (to: string): SipRequest => {
  const r = parseMessage(
    Buffer.from(
      [
        'INVITE sip:0475123456@127.0.0.1:5060 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-1;rport',
        'Max-Forwards: 70',
        'From: <sip:bench1@127.0.0.1>;tag=1SIPpTag001',
        `To: ${to}`,
        'Call-ID: 1-bench@127.0.0.1',
        'CSeq: 1 INVITE',
        'Contact: <sip:bench1@127.0.0.1:5061;transport=UDP>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  );
  if (!r.ok || r.message.kind !== 'request') throw new Error('unparsable fixture');
  return r.message;
};

describe('ParseMemo', () => {
  it('gives the value parsed earlier for the same text, and parses a new text', () => {
    let parses = 0;
    const memo = new ParseMemo((t: string) => (parses++, ok(t.length)), 4);
    expect(memo.get('abc')).toBe(memo.get('abc'));
    expect(memo.get('abcd')).toEqual(ok(4));
    expect(parses).toBe(2);
  });

  it('keeps between size and twice size texts: the oldest generation is dropped', () => {
    let parses = 0;
    const memo = new ParseMemo((t: string) => (parses++, ok(t)), 2);
    for (const t of ['a', 'b', 'c', 'd', 'e']) memo.get(t);
    expect(parses).toBe(5);
    memo.get('d'); // recent
    memo.get('c'); // older generation: found, not parsed again
    expect(parses).toBe(5);
    memo.get('a'); // dropped
    expect(parses).toBe(6);
  });

  it('does not keep failures nor texts longer than its limit', () => {
    let parses = 0;
    const memo = new ParseMemo((t: string) => (parses++, t === 'bad' ? fail<string>('bad') : ok(t)), 8, 5);
    memo.get('bad');
    memo.get('bad');
    memo.get('longer');
    memo.get('longer');
    expect(parses).toBe(4);
  });
});

describe('the name-addrs and URIs of the parser are shared values (issue #4)', () => {
  it('the same text gives the same value, equal to a fresh parse of it', () => {
    const text = '"Bob" <sip:bob@biloxi.example.com;transport=udp>;tag=a6c85cf';
    const a = parseNameAddr(text);
    expect(parseNameAddr(text)).toBe(a);
    expect(parseNameAddr(` ${text}`)).toEqual(a);
    expect(parseUri('sip:0475123456@127.0.0.1:5060')).toBe(parseUri('sip:0475123456@127.0.0.1:5060'));
  });

  it('a response adding its To tag leaves the shared To of the request as parsed', () => {
    const to = '<sip:0475123456@127.0.0.1>';
    const first = request(to);
    const response = buildResponse(first, 407, { toTag: 'ours' });
    expect(toTag(response as never)).toBe('ours');
    const again = request(to);
    expect(again.to).toBe(first.to);
    expect(again.to.params.has('tag')).toBe(false);
    expect(toTag(again)).toBeUndefined();
  });

  it('an invalid text is still refused every time', () => {
    expect(parseNameAddr('<sip:bob@biloxi.example.com').ok).toBe(false);
    expect(parseNameAddr('<sip:bob@biloxi.example.com').ok).toBe(false);
    expect(parseUri('sip:bob@').ok).toBe(false);
    expect(parseUri('sip:bob@').ok).toBe(false);
  });
});

describe('CSeq values are shared too', () => {
  it('the same text gives the same value; a bad one is refused', () => {
    expect(parseCSeq('2 INVITE')).toBe(parseCSeq('2 INVITE'));
    expect(parseCSeq('2 INVITE')).toEqual({ ok: true, value: { seq: 2, method: 'INVITE' } });
    expect(parseCSeq('2 IN VITE').ok).toBe(false);
    expect(parseCSeq('2 IN VITE').ok).toBe(false);
  });
});
