import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DigestAlgorithm,
  MemoryNonceCountStore,
  type VerifyOptions,
  digestResponse,
  ha1,
  makeChallenges,
  makeNonce,
  parseAuthorization,
  parseAuthorizationGeneral,
  verify,
} from './digest.ts';

describe('RFC 7616 §3.9.1 example vectors', () => {
  const example = {
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    qop: 'auth' as const,
    method: 'GET',
    uri: '/dir/index.html',
  };
  it.each([
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const)('%s', (algorithm, response) => {
    const h = ha1(algorithm, 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(digestResponse({ ...example, algorithm, ha1: h })).toBe(response);
  });
});

const realm = 'easy2phone.be';
const secret = 'test-secret';
let clock = 1_700_000_000_000;
const base = (): VerifyOptions => ({ realm, secret, now: () => clock, lifetimeMs: 60_000, nonceCounts: new MemoryNonceCountStore() });
const password = 'a-very-long-generated-password';
const lookup = (user: string, algorithm: DigestAlgorithm): string | undefined => (user === '1001' ? ha1(algorithm, user, realm, password) : undefined);

/** What a phone sends back for a challenge value. */
function answer(challenge: string, o: { algorithm?: DigestAlgorithm; nc?: number; pw?: string; uri?: string; method?: string } = {}): string {
  const param = (n: string): string => new RegExp(`${n}="?([^",]+)"?`, 'u').exec(challenge)?.[1] ?? '';
  const algorithm = o.algorithm ?? (param('algorithm') as DigestAlgorithm);
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const uri = o.uri ?? 'sip:easy2phone.be';
  const response = digestResponse({
    algorithm, ha1: ha1(algorithm, '1001', realm, o.pw ?? password), nonce: param('nonce'), nc, cnonce: 'abc', qop: 'auth', method: o.method ?? 'REGISTER', uri,
  });
  return `Digest username="1001", realm="${realm}", nonce="${param('nonce')}", uri="${uri}", response="${response}", algorithm=${algorithm}, cnonce="abc", qop=auth, nc=${nc}, opaque="${param('opaque')}"`;
}

describe('challenges', () => {
  it('offers SHA-256 then MD5 with qop=auth, one nonce and opaque', () => {
    const c = makeChallenges(realm, { secret, now: () => clock });
    expect(c.name).toBe('WWW-Authenticate');
    expect(c.values).toHaveLength(2);
    expect(c.values[0]).toMatch(/^Digest realm="easy2phone\.be", nonce="[\w-]{43}", opaque="[\w-]+", algorithm=SHA-256, qop="auth"$/u);
    expect(c.values[1]).toContain('algorithm=MD5');
    expect(makeChallenges(realm, { secret, proxy: true, stale: true }).values[0]).toContain('stale=true');
    expect(makeChallenges(realm, { secret, proxy: true }).name).toBe('Proxy-Authenticate');
    expect(makeChallenges(realm, { secret, algorithms: ['MD5'] }).values).toEqual([expect.stringContaining('algorithm=MD5') as unknown]);
  });

  it('never gives two challenges of the same instant the same nonce (each phone counts nc from 1)', () => {
    const nonceOf = (v: string) => /nonce="([^"]+)"/u.exec(v)?.[1];
    const nonces = new Set(Array.from({ length: 100 }, () => nonceOf(makeChallenges(realm, { secret, now: () => clock }).values[0]!)));
    expect(nonces.size).toBe(100);
  });

  it('keeps nonces distinct and valid across refills of the shared random pool (512 salts per 4 KiB)', async () => {
    const nonceOf = (v: string) => /nonce="([^"]+)"/u.exec(v)![1]!;
    const challenges = Array.from({ length: 1100 }, () => makeChallenges(realm, { secret, now: () => clock }).values[0]!);
    expect(new Set(challenges.map(nonceOf)).size).toBe(1100);
    for (const c of [challenges[0]!, challenges[511]!, challenges[512]!, challenges[1099]!]) {
      expect((await verify(answer(c), 'REGISTER', lookup, base())).kind).toBe('ok');
    }
  });

  it('accepts the nonces of the earlier encoding (64-bit timestamp written with BigInt): nodes of both versions share them', async () => {
    const head = Buffer.alloc(16);
    head.writeBigUInt64BE(BigInt(clock - 1000));
    head.fill(7, 8);
    const tag = createHmac('sha256', secret).update(`${head.toString('hex')}|${realm}`).digest().subarray(0, 16);
    const nonce = Buffer.concat([head, tag]).toString('base64url');
    expect(makeNonce(realm, { secret, now: () => clock })).toHaveLength(nonce.length);
    const c = makeChallenges(realm, base()).values[0]!.replace(/nonce="[^"]+"/u, `nonce="${nonce}"`);
    expect(await verify(answer(c), 'REGISTER', lookup, base())).toMatchObject({ kind: 'ok' });
    // Its timestamp is read back exactly: fresh up to the lifetime (60 s in base()), stale one millisecond later.
    const at = (ms: number): VerifyOptions => ({ ...base(), now: () => ms });
    expect(await verify(answer(c), 'REGISTER', lookup, at(clock - 1000 + 60_000))).toMatchObject({ kind: 'ok' });
    expect(await verify(answer(c), 'REGISTER', lookup, at(clock - 1000 + 60_001))).toEqual({ kind: 'stale' });
  });

  it('gives each secret its own opaque (the per-secret memo never answers for another secret)', async () => {
    const opaqueOf = (s: string | Uint8Array) => /opaque="([^"]+)"/u.exec(makeChallenges(realm, { secret: s }).values[0]!)![1];
    expect(opaqueOf('secret-a')).toBe(opaqueOf('secret-a'));
    expect(opaqueOf('secret-a')).not.toBe(opaqueOf('secret-b'));
    expect(opaqueOf(Buffer.from('secret-a'))).toBe(opaqueOf('secret-a'));
    const other = makeChallenges(realm, { ...base(), secret: 'secret-b' }).values[0]!;
    const mine = makeChallenges(realm, base()).values[0]!;
    const withOtherOpaque = mine.replace(/opaque="[^"]+"/u, `opaque="${/opaque="([^"]+)"/u.exec(other)![1]}"`);
    expect(await verify(answer(withOtherOpaque), 'REGISTER', lookup, base())).toMatchObject({ reason: 'wrong opaque' });
  });
});

describe('verify', () => {
  it('accepts a correct answer for each algorithm', async () => {
    const [sha, md5] = makeChallenges(realm, base()).values;
    expect(await verify(answer(sha!), 'REGISTER', lookup, base())).toEqual({ kind: 'ok', username: '1001', algorithm: 'SHA-256' });
    expect(await verify(answer(md5!), 'REGISTER', lookup, base())).toEqual({ kind: 'ok', username: '1001', algorithm: 'MD5' });
  });

  it('refuses a wrong password, unknown user, wrong method or realm', async () => {
    const [c] = makeChallenges(realm, base()).values;
    expect(await verify(answer(c!, { pw: 'nope' }), 'REGISTER', lookup, base())).toMatchObject({ kind: 'invalid', reason: 'wrong response' });
    expect(await verify(answer(c!), 'INVITE', lookup, base())).toMatchObject({ kind: 'invalid' });
    expect(await verify(answer(c!).replace('"1001"', '"1002"'), 'REGISTER', lookup, base())).toMatchObject({ reason: 'unknown user' });
    expect(await verify(answer(c!), 'REGISTER', lookup, { ...base(), realm: 'other' })).toMatchObject({ reason: 'wrong realm' });
    expect(await verify(answer(c!), 'REGISTER', lookup, { ...base(), requestUri: 'sip:other' })).toMatchObject({ kind: 'invalid' });
  });

  it('refuses nonces not issued with our secret or realm', async () => {
    const forged = makeChallenges(realm, { ...base(), secret: 'other' }).values[0]!;
    expect(await verify(answer(forged), 'REGISTER', lookup, base())).toMatchObject({ kind: 'invalid' });
    const nonce = makeNonce('elsewhere', base());
    const c = makeChallenges(realm, base()).values[0]!.replace(/nonce="[^"]+"/u, `nonce="${nonce}"`);
    expect(await verify(answer(c), 'REGISTER', lookup, base())).toMatchObject({ reason: 'nonce not issued here' });
  });

  it('checks a nonce it made lately without its HMAC, any other by it: the same answers (issue #4)', async () => {
    const [first] = makeChallenges(realm, base()).values;
    // Out of the memory of the nonces made here (8 192 at most), checked by its HMAC: still ours.
    for (let i = 0; i < 9000; i++) makeNonce(realm, base());
    expect(await verify(answer(first!), 'REGISTER', lookup, base())).toMatchObject({ kind: 'ok' });
    const [c] = makeChallenges(realm, base()).values;
    expect(await verify(answer(c!), 'REGISTER', lookup, base())).toMatchObject({ kind: 'ok' });
    // The same secret as bytes: not the remembered one, checked by its HMAC, accepted.
    const [c2] = makeChallenges(realm, base()).values;
    expect(await verify(answer(c2!), 'REGISTER', lookup, { ...base(), secret: Buffer.from(secret) })).toMatchObject({ kind: 'ok' });
    // Another secret or realm than the nonce was made with: refused as before.
    const [c3] = makeChallenges(realm, base()).values;
    expect(await verify(answer(c3!), 'REGISTER', lookup, { ...base(), secret: 'another-secret-another-secret-xx' })).toMatchObject({ kind: 'invalid' });
    // A nonce made here with one character changed: not remembered, its tag no longer matches.
    const [c4] = makeChallenges(realm, base()).values;
    const nonce = /nonce="([^"]+)"/u.exec(c4!)![1]!;
    const flipped = `${nonce.slice(0, -3)}${nonce.at(-3) === 'A' ? 'B' : 'A'}${nonce.slice(-2)}`;
    expect(await verify(answer(c4!.replace(nonce, flipped)), 'REGISTER', lookup, base())).toMatchObject({ kind: 'invalid' });
  });

  it('answers stale for an expired nonce with a correct response, invalid with a wrong one', async () => {
    const c = makeChallenges(realm, base()).values[0]!;
    clock += 61_000;
    expect(await verify(answer(c), 'REGISTER', lookup, base())).toEqual({ kind: 'stale' });
    expect(await verify(answer(c, { pw: 'x' }), 'REGISTER', lookup, base())).toMatchObject({ kind: 'invalid' });
  });

  it('requires nonce-counts to increase per nonce', async () => {
    const o = base();
    const c = makeChallenges(realm, o).values[0]!;
    expect((await verify(answer(c, { nc: 1 }), 'REGISTER', lookup, o)).kind).toBe('ok');
    expect(await verify(answer(c, { nc: 1 }), 'REGISTER', lookup, o)).toMatchObject({ reason: 'nonce-count replayed' });
    expect((await verify(answer(c, { nc: 2 }), 'REGISTER', lookup, o)).kind).toBe('ok');
    expect((await verify(answer(c, { nc: 2 }), 'REGISTER', lookup, o)).kind).toBe('invalid');
  });

  it('keeps the nonce-count store bounded', () => {
    const store = new MemoryNonceCountStore(2);
    expect([store.advance('a', 1), store.advance('b', 1), store.advance('c', 1), store.advance('a', 1)]).toEqual([true, true, true, true]);
    expect(store.advance('c', 1)).toBe(false);
  });

  it('past its bound forgets the oldest tenth at once, the recent nonces still refused a replay', () => {
    const store = new MemoryNonceCountStore(100);
    for (let i = 0; i < 101; i++) expect(store.advance(`n${i}`, 1)).toBe(true);
    expect(store.size).toBe(91);
    expect([store.advance('n9', 1), store.advance('n10', 1), store.advance('n100', 1)]).toEqual([true, false, false]);
  });

  it('remembers a nonce-count as long as its nonce can be fresh, then forgets it (memory bounded by the lifetime)', async () => {
    const o = base(); // lifetime 60 s
    const store = new MemoryNonceCountStore({ lifetimeMs: 60_000, now: () => clock });
    const opts = { ...o, nonceCounts: store };
    const c = makeChallenges(realm, o).values[0]!;
    expect((await verify(answer(c, { nc: 1 }), 'REGISTER', lookup, opts)).kind).toBe('ok');
    for (const other of [1, 2, 3]) store.advance(makeChallenges(realm, o).values[0]!.match(/nonce="([^"]+)"/u)![1]!, other);
    clock += 59_000; // fresh until 60 s: the store crossed a rotation or not, the replay is refused
    expect(await verify(answer(c, { nc: 1 }), 'REGISTER', lookup, opts)).toMatchObject({ reason: 'nonce-count replayed' });
    clock += 2_000;
    expect((await verify(answer(c, { nc: 1 }), 'REGISTER', lookup, opts)).kind).toBe('stale');
    expect(store.size).toBe(4);
    clock += 2 * 90_000; // two periods of lifetime + 30 s skew: all stale, all forgotten
    store.advance('x', 1);
    expect(store.size).toBe(1);
  });

  it('keys a nonce by a number, not by its text (a slice of the whole message would stay in memory)', () => {
    const store = new MemoryNonceCountStore();
    const nonce = makeChallenges(realm, base()).values[0]!.match(/nonce="([^"]+)"/u)![1]!;
    store.advance(` ${nonce} `.slice(1, -1), 5);
    expect(store.advance(nonce, 5)).toBe(false);
    expect(store.advance(nonce, 6)).toBe(true);
    expect([...(store as unknown as { current: Map<unknown, number> }).current.keys()].every((k) => typeof k === 'number')).toBe(true);
  });

  it.each([
    ['Basic abc'],
    ['Digest username="1001"'],
    ['Digest username="1001", username="x", realm="r", nonce="n", uri="u", response="r"'],
    ['Digest username="1001, realm="r"'],
    ['NoOneKnowsThisScheme opaque-data=here'],
  ])('refuses the malformed %s', async (value) => {
    expect((await verify(value, 'REGISTER', lookup, base())).kind).toBe('invalid');
  });

  it('verifies an Authorization already parsed exactly as its text', async () => {
    const a = answer(makeChallenges(realm, base()).values[0]!);
    const parsed = parseAuthorization(a);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(await verify(parsed, 'REGISTER', lookup, base())).toEqual({ kind: 'ok', username: '1001', algorithm: 'SHA-256' });
    expect(await verify({ ...parsed, response: '0'.repeat(64) }, 'REGISTER', lookup, base())).toMatchObject({ reason: 'wrong response' });
  });

  it('parses each value afresh when values alternate (the last one is remembered, immutable)', () => {
    const a = 'Digest username="a", realm="r", nonce="n", uri="u", response="x"';
    const b = 'Digest username="b", realm="r", nonce="n", uri="u", response="x"';
    const first = parseAuthorization(a);
    expect(parseAuthorization(a)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(parseAuthorization(b)).toMatchObject({ username: 'b' });
    expect(parseAuthorization(a)).toMatchObject({ username: 'a' });
    expect(parseAuthorization('Digest realm="r"')).toBe('missing username, realm, nonce, uri or response');
    expect(parseAuthorization('')).toBe('not a Digest authorization');
  });

  it('gives, for any value, what the general parse (list split, unquoting) gives: the one-pass scan of the usual value agrees (issue #4)', () => {
    const names = ['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'qop', 'nc', 'cnonce', 'opaque', 'userhash', 'USERNAME', 'Realm', 'x-y'];
    const ws = fc.constantFrom('', ' ', '  ', '\t');
    const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,8}$/u);
    const quoted = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '<', '>', '=', ';', '\\"', '\\\\', 'é', ':'), maxLength: 8 }).map((t) => `"${t}"`);
    const param = fc.tuple(fc.constantFrom(...names), ws, ws, fc.oneof(token, quoted, fc.constantFrom('', '"open', 'a b', '<x>')), ws).map(([n, a, b, v, c]) => `${n}${a}=${b}${v}${c}`);
    const value = fc
      .tuple(fc.constantFrom('Digest ', 'digest\t', 'DIGEST  ', ' Digest ', 'Digest', 'Basic '), fc.array(fc.oneof(param, param, param, fc.constantFrom('', ' ', 'junk')), { maxLength: 12 }), fc.constantFrom(',', ', ', ' ,'))
      .map(([scheme, params, sep]) => `${scheme}${params.join(sep)}`);
    const usual = fc.tuple(fc.shuffledSubarray(['username="u"', 'realm="r"', 'nonce="n"', 'uri="sip:x"', 'response="ab"', 'qop=auth', 'nc=00000001', 'algorithm=MD5'], { minLength: 5 }), ws).map(([ps, w]) => `Digest ${ps.join(`${w},${w}`)}`);
    fc.assert(
      fc.property(fc.oneof(value, usual), (v) => {
        expect(parseAuthorization(v)).toEqual(parseAuthorizationGeneral(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('parses quoted and token parameters, unquoted algorithm, odd spacing', () => {
    const c = parseAuthorization('digest  username="a\\"b" ,realm = "r", nonce=n1, uri="sip:x", response="ab", algorithm=sha-256 , qop=auth, nc=00000001, cnonce="c"');
    expect(c).toMatchObject({ username: 'a"b', realm: 'r', nonce: 'n1', algorithm: 'sha-256', qop: 'auth', cnonce: 'c' });
  });

  it('refuses missing qop, unsupported algorithms and userhash', async () => {
    const c = makeChallenges(realm, base()).values[0]!;
    const a = answer(c);
    expect((await verify(a.replace(', qop=auth', ''), 'REGISTER', lookup, base())).kind).toBe('invalid');
    expect(await verify(a.replace('algorithm=SHA-256', 'algorithm=SHA-256-sess'), 'REGISTER', lookup, base())).toMatchObject({ reason: expect.stringContaining('unsupported') as unknown });
    expect((await verify(`${a}, userhash=true`, 'REGISTER', lookup, base())).kind).toBe('invalid');
    expect(await verify(a.replace(/opaque="[^"]+"/u, 'opaque="x"'), 'REGISTER', lookup, base())).toMatchObject({ reason: 'wrong opaque' });
  });
});
