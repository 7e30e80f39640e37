/**
 * RFC 4475 torture messages (test/fixtures/sip): §3.1.1 valid, §3.1.2 invalid,
 * §3.2–3.4 (named `semantic/`) which parse but are judged above the parser.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replyToParseError } from './builders.ts';
import { contactExpires, fromTag, getHeader, getHeaderValues, toTag, type SipMessage, type SipRequest } from './message.ts';
import { type ParseResult, parseMessage } from './parser.ts';
import { checkRequest } from './semantics.ts';
import { isSipUri, parseUri, type SipUri, type Uri, uriEquals } from './uri.ts';

const dir = new URL('../../test/fixtures/sip/', import.meta.url);
const load = (name: string): Buffer => readFileSync(new URL(name, dir));
const parse = (name: string): ParseResult => parseMessage(load(name));
const message = (name: string): SipMessage => {
  const r = parse(name);
  if (!r.ok) throw new Error(`${name}: ${r.error.reason}`);
  return r.message;
};
const request = (name: string): SipRequest => {
  const m = message(name);
  if (m.kind !== 'request') throw new Error(`${name} is not a request`);
  return m;
};
const sip = (u: Uri): SipUri => {
  if (!isSipUri(u)) throw new Error(`not a SIP URI: ${u.scheme}`);
  return u;
};
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('RFC 4475 §3.1.1 valid messages', () => {
  it('every one parses', () => {
    for (const f of readdirSync(new URL('valid/', dir))) expect(parse(`valid/${f}`).ok, f).toBe(true);
  });

  it('3.1.1.1 wsinv: folding, compact forms, odd whitespace', () => {
    const m = request('valid/wsinv.sip');
    expect(sip(m.uri)).toMatchObject({ user: 'vivekg', host: 'chair-dnrc.example.com' });
    expect(sip(m.uri).params.get('unknownparam')).toBeNull();
    expect(sip(m.to.uri).user).toBe('vivekg');
    expect(toTag(m)).toBe('1918181833n');
    expect(m.from.displayName).toBe('"J Rosenberg \\\\\\""');
    expect(fromTag(m)).toBe('98asjd8');
    expect(m.maxForwards).toBe(68);
    expect(m.callId).toBe('wsinv.ndaksdj@192.0.2.1');
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.contentLength).toBe(150);
    expect(m.body.length).toBe(150);
    expect(m.via.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(getHeader(m, 'Subject')).toBe('');
    expect(getHeader(m, 'NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(getHeader(m, 'UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(m.route).toHaveLength(1);
    expect(sip(m.route[0]!.uri).params.get('lr')).toBeNull();
    const c = m.contact[0];
    expect(c?.star).toBe(false);
    if (c === undefined || c.star) return;
    expect(c.displayName).toBe('"Quoted string \\"\\""');
    expect(c.params.get('newparam')).toBe('newvalue');
    expect(c.params.get('secondparam')).toBeNull();
    expect(c.params.get('q')).toBe('0.33');
  });

  it('3.1.1.2 intmeth: unusual method, URI, tokens, non-ASCII', () => {
    const m = request('valid/intmeth.sip');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const u = sip(m.uri);
    expect(u.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(u.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(u.host).toBe('example.com');
    expect(m.via[0]?.branch).toBe("z9hG4bK-.!%66*_+`'~");
    expect(m.to.displayName).toBe('"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F"');
    expect(m.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.from.params.get("fromparam''~+*_!.-%")).toBe('"работающий"');
    expect(fromTag(m)).toBe("_token~1'+`*%!-.");
    expect(m.callId).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    expect(m.cseq).toEqual({ seq: 139122385, method: m.method });
    expect(m.maxForwards).toBe(255);
    expect(getHeader(m, "extensionHeader-!.%*+_`'~")).toBe('\uFEFF大停電');
  });

  it('3.1.1.3 esc01 and 3.1.1.4 escnull: escapes kept, %00 accepted', () => {
    const m = request('valid/esc01.sip');
    expect(sip(m.uri).user).toBe('sips%3Auser%40example.com');
    expect(sip(m.to.uri).user).toBe('%75se%72');
    const plain = parseUri('sip:user@example.com');
    expect(plain.ok && uriEquals(m.to.uri, plain.value)).toBe(true);
    expect(sip(m.from.uri).user).toBe('I%20have%20spaces');
    const c = m.contact[0];
    if (c === undefined || c.star) throw new Error('contact expected');
    expect(sip(c.uri).params.get('%6c%72')).toBeNull();
    expect(sip(c.uri).params.get('n%61me')).toBe('v%61lue%25%34%31');
    const n = request('valid/escnull.sip');
    expect(n.contact.map((x) => (x.star ? '*' : sip(x.uri).user))).toEqual(['%00', '%00%00']);
  });

  it('3.1.1.5 esc02: escaped method and header name are plain tokens', () => {
    const m = request('valid/esc02.sip');
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.from.displayName).toBe('"%Z%45"');
    expect(m.contact).toHaveLength(2);
    expect(getHeader(m, 'C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  it('3.1.1.6 lwsdisp: no space before <', () => {
    const m = request('valid/lwsdisp.sip');
    expect(m.from.displayName).toBe('caller');
    expect(sip(m.from.uri).user).toBe('caller');
  });

  it('3.1.1.7 longreq: long values, 34 Vias in many spellings', () => {
    const m = request('valid/longreq.sip');
    expect(m.via).toHaveLength(34);
    expect(m.via[33]?.received).toBe('192.0.2.5');
    expect(sip(m.to.uri).port).toBe(6000);
    expect(fromTag(m)).toBe(`12${'982'.repeat(50)}424`);
    expect(m.callId).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
  });

  it('3.1.1.8 dblreq: the datagram holds one message, the rest is discarded', () => {
    const m = request('valid/dblreq.sip');
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
  });

  it('3.1.1.9 semiuri and 3.1.1.10 transports', () => {
    const m = request('valid/semiuri.sip');
    expect(sip(m.uri).user).toBe('user;par=u%40example.net');
    expect(getHeaderValues(m, 'Accept')).toHaveLength(6);
    const t = request('valid/transports.sip');
    expect(t.via.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('3.1.1.11 mpart01: binary body, valueless rport', () => {
    const m = request('valid/mpart01.sip');
    expect(m.body.length).toBe(553);
    expect(m.via[0]?.rport).toBe(true);
    expect(m.via[0]?.port).toBe(5070);
    expect(sip(m.route[0]!.uri).port).toBe(5080);
  });

  it('3.1.1.12 unreason and 3.1.1.13 noreason', () => {
    const u = message('valid/unreason.sip');
    if (u.kind !== 'response') throw new Error('response expected');
    expect(u.status).toBe(200);
    expect(u.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    const n = message('valid/noreason.sip');
    expect(n.kind === 'response' && n.reason).toBe('');
  });
});

describe('RFC 4475 §3.1.2 invalid messages', () => {
  const expectations: Record<string, RegExp> = {
    badinv01: /Via/u,
    clerr: /Content-Length/u,
    ncl: /Content-Length/u,
    scalar02: /CSeq/u,
    scalarlg: /CSeq/u,
    quotbal: /quoted/u,
    ltgtruri: /Request-URI/u,
    lwsruri: /request line/u,
    lwsstart: /request line/u,
    trws: /request line/u,
    escruri: /Request-URI/u,
    regbadct: /enclosed/u,
    badaspec: /To/u,
    baddn: /display name/u,
    badvers: /version/u,
    mismatch01: /CSeq method/u,
    mismatch02: /CSeq method/u,
    bigcode: /status line/u,
  };

  it('every one is refused, never with an exception', () => {
    for (const f of readdirSync(new URL('invalid/', dir))) {
      const name = f.replace(/\.sip$/u, '');
      const r = parse(`invalid/${f}`);
      if (name === 'baddate') {
        expect(r.ok && r.message.kind === 'request' && checkRequest(r.message)).toEqual({ status: 400, reason: 'invalid Date header' });
        continue;
      }
      expect(r.ok, name).toBe(false);
      if (r.ok) continue;
      expect(r.error.reason, name).toMatch(expectations[name]!);
    }
  });

  it('3.1.2.16 badvers is answered 505, request errors carry what a 400 needs', () => {
    const v = parse('invalid/badvers.sip');
    expect(!v.ok && v.error.status).toBe(505);
    const m = parse('invalid/mismatch01.sip');
    if (m.ok) throw new Error('refusal expected');
    const reply = text(replyToParseError(m.error, 'abc') ?? new Uint8Array());
    expect(reply).toMatch(/^SIP\/2\.0 400 Bad Request/u);
    expect(reply).toContain('Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw\r\n');
    expect(reply).toContain('To: sip:j.user@example.com;tag=abc\r\n');
    expect(reply).toContain('Call-ID: mismatch01.dj0234sxdfl3\r\n');
    expect(reply).toContain('CSeq: 8 INVITE\r\n');
    const answer = parseMessage(Buffer.from(reply));
    expect(answer.ok && answer.message.kind === 'response' && answer.message.status).toBe(400);
  });

  it('responses and broken request lines give nothing to answer', () => {
    for (const name of ['scalarlg', 'bigcode', 'lwsstart', 'badinv01']) {
      const r = parse(`invalid/${name}.sip`);
      expect(!r.ok && replyToParseError(r.error), name).toBeUndefined();
    }
  });
});

describe('RFC 4475 §3.2–3.4: transaction and application semantics', () => {
  it('3.2.1 badbranch: a bare magic cookie is kept as the branch', () => {
    expect(request('semantic/badbranch.sip').via[0]?.branch).toBe('z9hG4bK');
  });

  it('3.3.1 insuf, 3.3.8 multi01, 3.3.9 mcl01: refused, answerable with 400', () => {
    for (const [name, reason] of [['insuf', /missing From/u], ['multi01', /more than one/u], ['mcl01', /Content-Length/u]] as const) {
      const r = parse(`semantic/${name}.sip`);
      expect(r.ok, name).toBe(false);
      if (r.ok) continue;
      expect(r.error.reason).toMatch(reason);
      expect(replyToParseError(r.error), name).toBeDefined();
    }
  });

  it('3.3.2 unkscm and 3.3.3 novelsc: parsed, answered 416', () => {
    for (const name of ['unkscm', 'novelsc']) expect(checkRequest(request(`semantic/${name}.sip`))?.status, name).toBe(416);
  });

  it('3.3.4 unksm2: other schemes in To, From and Contact are parsed opaque', () => {
    const m = request('semantic/unksm2.sip');
    expect(m.to.uri).toEqual({ scheme: 'isbn', opaque: '2983792873' });
    expect(m.from.uri.scheme).toBe('http');
    expect(checkRequest(m)).toBeUndefined();
  });

  it('3.3.5–3.3.7, 3.3.10, 3.3.15: parse for the layers above', () => {
    expect(getHeaderValues(request('semantic/bext01.sip'), 'Require')).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither']);
    expect(text(request('semantic/invut.sip').body)).toBe('<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
    expect(getHeader(request('semantic/regaut01.sip'), 'Authorization')).toBe('NoOneKnowsThisScheme opaque-data=here');
    expect(message('semantic/bcast.sip').via[1]?.host).toBe('255.255.255.255');
    expect(getHeader(request('semantic/sdp01.sip'), 'Accept')).toBe('text/nobodyKnowsThis');
  });

  it('3.3.11 zeromf: Max-Forwards 0 is a valid value', () => {
    expect(request('semantic/zeromf.sip').maxForwards).toBe(0);
  });

  it('3.3.12 cparam01 / 3.3.13 cparam02: header parameter vs URI parameter', () => {
    const a = request('semantic/cparam01.sip').contact[0];
    const b = request('semantic/cparam02.sip').contact[0];
    if (a === undefined || a.star || b === undefined || b.star) throw new Error('contacts expected');
    expect(a.params.has('unknownparam')).toBe(true);
    expect(sip(a.uri).params.size).toBe(0);
    expect(b.params.size).toBe(0);
    expect(sip(b.uri).params.has('unknownparam')).toBe(true);
    expect(contactExpires(a)).toBeUndefined();
  });

  it('3.3.14 regescrt: escaped headers in a Contact URI inside <>', () => {
    const c = request('semantic/regescrt.sip').contact[0];
    if (c === undefined || c.star) throw new Error('contact expected');
    expect(sip(c.uri).headers).toEqual([['Route', '%3Csip:sip.example.com%3E']]);
  });

  it('3.4.1 inv2543: RFC 2543 request without Max-Forwards, branch, tag or Content-Length', () => {
    const m = request('semantic/inv2543.sip');
    expect(m.maxForwards).toBeUndefined();
    expect(m.via[0]?.branch).toBeUndefined();
    expect(fromTag(m)).toBeUndefined();
    expect(m.body.length).toBe(105);
    expect(parseMessage(load('semantic/inv2543.sip'), { requireContentLength: true }).ok).toBe(false);
  });
});
