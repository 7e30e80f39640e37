import { describe, expect, it } from 'vitest';
import { parseNameAddr } from './headers.ts';
import { NO_PARAMS } from './syntax.ts';
import { formatUri, parseUri, type Uri, unescape, uriEquals } from './uri.ts';

const uri = (s: string): Uri => {
  const r = parseUri(s);
  if (!r.ok) throw new Error(`${s}: ${r.error}`);
  return r.value;
};

describe('uriEquals (RFC 3261 §19.1.4)', () => {
  it.each([
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['tel:+32-2-123-45-67', 'tel:+3221234567'],
  ])('%s equals %s', (a, b) => {
    expect(uriEquals(uri(a), uri(b))).toBe(true);
    expect(uriEquals(uri(b), uri(a))).toBe(true);
  });

  it.each([
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sips:bob@biloxi.com'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;newparam=6'],
    ['sip:alice@atlanta.com?subject=project%20x', 'sip:alice@atlanta.com'],
    ['sip:alice:pw@atlanta.com', 'sip:alice@atlanta.com'],
    ['tel:+3221234567', 'tel:+3221234568'],
  ])('%s differs from %s', (a, b) => {
    expect(uriEquals(uri(a), uri(b))).toBe(false);
    expect(uriEquals(uri(b), uri(a))).toBe(false);
  });
});

describe('URIs', () => {
  it.each([
    ['sip:alice@atlanta.com', { user: 'alice', host: 'atlanta.com', port: undefined }],
    ['sips:alice:secretword@atlanta.com;transport=tcp', { user: 'alice', password: 'secretword', host: 'atlanta.com' }],
    ['sip:+1-212-555-1212:1234@gateway.com;user=phone', { user: '+1-212-555-1212', password: '1234' }],
    ['sip:alice@192.0.2.4:5061', { host: '192.0.2.4', port: 5061 }],
    ['sip:[2001:db8::10]:5070;maddr=239.255.255.1', { host: '[2001:db8::10]', port: 5070 }],
    ['sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com', { user: undefined, headers: [['to', 'alice%40atlanta.com']] }],
    ['sip:alice;day=tuesday@atlanta.com', { user: 'alice;day=tuesday' }],
  ])('parses %s', (text, fields) => {
    const r = parseUri(text);
    expect(r.ok && r.value).toMatchObject(fields);
    if (r.ok) expect(formatUri(r.value)).toBe(text.replace(/^SIP/u, 'sip'));
  });

  it.each(['sip:', 'sip:@host', 'sip:a@', 'sip:a@host:99999', 'sip:a@ho st', 'sip:a%zz@host', 'sip:[::1', 'sip:a@host;=x', 'sip:a@-bad-', 'tel:1234', '<sip:a@b>', 'mailto:'])(
    'refuses %s',
    (text) => expect(parseUri(text).ok).toBe(false),
  );

  it('parses tel and other schemes', () => {
    expect(parseUri('tel:+32-2-123.45.67;ext=12')).toMatchObject({ ok: true, value: { scheme: 'tel', number: '+32-2-123.45.67' } });
    expect(parseUri('tel:1234;phone-context=example.com').ok).toBe(true);
    expect(parseUri('urn:service:sos')).toEqual({ ok: true, value: { scheme: 'urn', opaque: 'service:sos' } });
  });

  it('unescapes as UTF-8', () => expect(unescape('I%20have%C3%A9')).toBe('I haveé'));
});

describe('parameters shared when there are none (issue #4)', () => {
  it('gives every URI and name-addr without parameters the read-only NO_PARAMS, and its own map otherwise', () => {
    const bare = uri('sip:bob@example.com');
    const withParams = uri('sip:bob@example.com;transport=tcp');
    expect('params' in bare && bare.params).toBe(NO_PARAMS);
    expect('params' in withParams && withParams.params).not.toBe(NO_PARAMS);
    expect('params' in withParams && [...withParams.params]).toEqual([['transport', 'tcp']]);
    const to = parseNameAddr('<sip:bob@example.com>');
    expect(to.ok && to.value.params).toBe(NO_PARAMS);
    const from = parseNameAddr('<sip:alice@example.com>;tag=abc');
    expect(from.ok && from.value.params.get('tag')).toBe('abc');
    expect(NO_PARAMS.size).toBe(0);
    expect(() => (NO_PARAMS as Map<string, string | null>).set('tag', 'x')).toThrow(TypeError);
    expect(() => (NO_PARAMS as Map<string, string | null>).delete('tag')).toThrow(TypeError);
    expect(() => (NO_PARAMS as Map<string, string | null>).clear()).toThrow(TypeError);
    expect([...new Map(NO_PARAMS).set('tag', 'x')]).toEqual([['tag', 'x']]);
  });
});
