/**
 * Property-based fuzzing: whatever the bytes, parseMessage and StreamFramer
 * answer with a value and never throw; generated valid messages round-trip.
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replyToParseError } from './builders.ts';
import { StreamFramer } from './framer.ts';
import { parseMessage } from './parser.ts';
import { checkRequest } from './semantics.ts';
import { serializeMessage } from './serializer.ts';

const fixtures = ['valid', 'invalid', 'semantic'].flatMap((d) => {
  const dir = new URL(`../../test/fixtures/sip/${d}/`, import.meta.url);
  return readdirSync(dir).map((f) => new Uint8Array(readFileSync(new URL(f, dir))));
});

/** Parses and exercises everything a server would do with the result. */
function survive(data: Uint8Array): void {
  const r = parseMessage(data);
  expect(typeof r.ok).toBe('boolean');
  if (r.ok) {
    const again = parseMessage(serializeMessage(r.message));
    expect(again.ok).toBe(true);
    if (r.message.kind === 'request') checkRequest(r.message);
  } else {
    expect(r.error.reason.length).toBeGreaterThan(0);
    // The reply copies the raw headers as received, so it is only checked for framing.
    const reply = replyToParseError(r.error);
    if (reply !== undefined) expect(Buffer.from(reply).toString('utf8')).toMatch(/^SIP\/2\.0 [45]\d\d [^\r\n]*\r\n(?:[^\r\n]+\r\n)+Content-Length: 0\r\n\r\n$/u);
  }
}

const SPECIAL = [...Buffer.from('\r\n \t:;,<>"\\@?=%/[]*\x00'), 0xff];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...SPECIAL)) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('duplicate-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), length: fc.integer({ min: 1000, max: 200_000 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(data: Uint8Array, m: Mutation): Uint8Array {
  const b = Buffer.from(data);
  const at = b.length === 0 ? 0 : m.at % b.length;
  switch (m.kind) {
    case 'flip':
      if (b.length > 0) b[at] = m.byte;
      return b;
    case 'truncate':
      return b.subarray(0, at);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    case 'duplicate-line': {
      const start = b.lastIndexOf('\r\n', at) + 2;
      const end = b.indexOf('\r\n', at);
      if (start < 2 || end < 0) return b;
      return Buffer.concat([b.subarray(0, end + 2), b.subarray(start, end + 2), b.subarray(end + 2)]);
    }
    case 'huge':
      return Buffer.concat([b.subarray(0, at), Buffer.alloc(m.length, 'a;'), b.subarray(at)]);
  }
}

describe('parseMessage under fuzzing', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => survive(bytes)), { numRuns: 2000 });
  });

  it('never throws on text that looks like SIP', () => {
    const line = fc.stringMatching(/^[A-Za-z:;,<>" \t@=.\-/0-9\\]{0,60}$/u);
    const text = fc.tuple(fc.constantFrom('INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'OPTIONS x SIP/2.0'), fc.array(line, { maxLength: 12 }));
    fc.assert(fc.property(text, ([start, lines]) => survive(Buffer.from(`${start}\r\n${lines.join('\r\n')}\r\n\r\n`))), { numRuns: 2000 });
  });

  it('never throws on mutated torture messages', () => {
    const arb = fc.tuple(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }));
    fc.assert(fc.property(arb, ([base, ms]) => survive(ms.reduce(mutate, base))), { numRuns: 3000 });
  });

  it('StreamFramer never throws and never buffers past its limit', () => {
    const arb = fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...fixtures)), { maxLength: 20 });
    fc.assert(
      fc.property(arb, (chunks) => {
        const f = new StreamFramer({ maxMessageSize: 4096 });
        for (const c of chunks) {
          for (const e of f.push(c)) if (e.kind === 'message') survive(e.data);
          expect(f.buffered).toBeLessThanOrEqual(4096 + c.length);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('serialize ∘ parse', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/u);
  const host = fc.oneof(
    fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z]{2,6}){1,2}$/u),
    fc.ipV4(),
    fc.ipV6().map((a) => `[${a}]`),
  );
  const user = fc.stringMatching(/^([A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-F]{2}){1,16}$/u);
  const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
  const paramValue = fc.stringMatching(/^([A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-F]{2}){1,10}$/u);
  const uriParams = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/u), fc.option(paramValue, { nil: undefined })), {
    maxLength: 3,
    selector: ([name]) => name,
  });
  const sipUri = fc
    .tuple(fc.constantFrom('sip', 'sips'), fc.option(user, { nil: undefined }), host, port, uriParams)
    .map(([s, u, h, p, ps]) => `${s}:${u === undefined ? '' : `${u}@`}${h}${p === undefined ? '' : `:${p}`}${ps.map(([k, v]) => (v === undefined ? `;${k}` : `;${k}=${v}`)).join('')}`);
  const displayName = fc.option(
    fc.oneof(
      fc.array(token, { minLength: 1, maxLength: 3 }).map((ws) => ws.join(' ')),
      fc.string({ maxLength: 20 }).map((s) => `"${s.replace(/[\x00-\x1f\x7f]/gu, '').replace(/["\\]/gu, (c) => `\\${c}`)}"`),
    ),
    { nil: undefined },
  );
  const nameAddr = fc.tuple(displayName, sipUri, fc.option(token, { nil: undefined })).map(([d, u, tag]) => `${d === undefined ? '' : `${d} `}<${u}>${tag === undefined ? '' : `;tag=${tag}`}`);
  const via = fc
    .tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'WS'), host, port, token)
    .map(([t, h, p, b]) => `SIP/2.0/${t} ${h}${p === undefined ? '' : `:${p}`};branch=z9hG4bK${b}`);
  const extension = fc.tuple(fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/u), fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/u));
  const message = fc
    .record({
      method: token,
      uri: sipUri,
      vias: fc.array(via, { minLength: 1, maxLength: 3 }),
      from: nameAddr,
      to: nameAddr,
      callId: fc.stringMatching(/^[\x21-\x7e]{1,30}$/u),
      seq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      maxForwards: fc.integer({ min: 0, max: 255 }),
      extensions: fc.array(extension, { maxLength: 4 }),
      body: fc.uint8Array({ maxLength: 200 }),
      status: fc.option(fc.integer({ min: 100, max: 699 }), { nil: undefined }),
    })
    .map((m) => {
      const start = m.status === undefined ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} Some Reason`;
      const headers = [
        ...m.vias.map((v) => `Via: ${v}`),
        `Max-Forwards: ${m.maxForwards}`,
        `From: ${m.from}`,
        `To: ${m.to}`,
        `Call-ID: ${m.callId}`,
        `CSeq: ${m.seq} ${m.method}`,
        ...m.extensions.map(([n, v]) => `${n}: ${v}`),
        `Content-Length: ${m.body.length}`,
      ];
      return Buffer.concat([Buffer.from(`${[start, ...headers].join('\r\n')}\r\n\r\n`), m.body]);
    });

  it('reproduces generated canonical messages byte for byte', () => {
    fc.assert(
      fc.property(message, (data) => {
        const r = parseMessage(data);
        if (!r.ok) throw new Error(`${r.error.reason}\n${data.toString('latin1')}`);
        expect(Buffer.from(serializeMessage(r.message)).equals(data)).toBe(true);
        expect(parseMessage(serializeMessage(r.message))).toEqual(r);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('pathological inputs stay linear', () => {
  const n = 60_000;
  const cases: Record<string, string> = {
    'spaces inside a header value': `X-A: ${' '.repeat(n)}x`,
    'spaces before a header colon': `X-A${' '.repeat(n)}x: y`,
    'a long tel number in From': `From: <tel:${'1'.repeat(n)}!>;tag=1`,
    'a long hostname': `To: <sip:${'a'.repeat(n)}!>`,
    'many empty parameters': `Contact: <sip:a@b>${';'.repeat(n)}`,
    'many list elements': `Via: ${'SIP/2.0/UDP h;branch=z9hG4bKx, '.repeat(2000)}`,
    'a long quoted string': `To: "${'\\"'.repeat(n / 2)} <sip:a@b>`,
    'a long Content-Length line': `Content-Length:${' '.repeat(n)}x`,
  };
  it.each(Object.entries(cases))('%s', (_name, header) => {
    const data = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${header}\r\nContent-Length: 0\r\n\r\n`);
    const started = performance.now();
    parseMessage(data);
    new StreamFramer({ maxMessageSize: 1 << 20 }).push(data);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
