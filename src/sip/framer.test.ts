import { describe, expect, it } from 'vitest';
import { type FrameEvent, StreamFramer } from './framer.ts';

const msg = (body: string, cl = Buffer.byteLength(body)): string =>
  `MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: ${cl}\r\n\r\n${body}`;
const texts = (events: FrameEvent[]): string[] =>
  events.map((e) => (e.kind === 'message' ? Buffer.from(e.data).toString() : e.kind === 'error' ? `error: ${e.reason}` : e.kind));

describe('StreamFramer', () => {
  it('frames back-to-back messages and skips CRLFs, reporting pings and pongs', () => {
    const f = new StreamFramer();
    expect(texts(f.push(Buffer.from(`\r\n\r\n${msg('one')}${msg('')}\r\n${msg('two')}`)))).toEqual(['ping', msg('one'), msg(''), 'pong', msg('two')]);
    expect(f.buffered).toBe(0);
  });

  it('frames a message cut at every byte', () => {
    const whole = Buffer.from(`${msg('hello')}\r\n\r\n${msg('world')}`);
    const f = new StreamFramer();
    const events = [...whole].flatMap((b) => f.push(Uint8Array.of(b)));
    expect(texts(events)).toEqual([msg('hello'), 'ping', msg('world')]);
  });

  it('waits for the rest of a body', () => {
    const f = new StreamFramer();
    const whole = msg('0123456789');
    expect(f.push(Buffer.from(whole.slice(0, -4)))).toEqual([]);
    expect(texts(f.push(Buffer.from(whole.slice(-4))))).toEqual([whole]);
  });

  it.each([
    ['missing Content-Length', 'OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n', /missing/u],
    ['negative Content-Length', 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n', /invalid/u],
    ['two Content-Lengths', 'OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx', /more than one/u],
    ['oversized body', msg('x', 70000), /maximum/u],
    ['bare CR', '\rX', /bare CR/u],
  ])('fails on %s, for good', (_name, data, reason) => {
    const f = new StreamFramer();
    const events = f.push(Buffer.from(data));
    expect(events.at(-1)).toMatchObject({ kind: 'error', reason: expect.stringMatching(reason) as unknown });
    expect(f.push(Buffer.from(msg('ok')))[0]?.kind).toBe('error');
  });

  it('bounds the buffer while waiting for the end of the headers', () => {
    const f = new StreamFramer({ maxMessageSize: 1024 });
    expect(f.push(Buffer.alloc(1000, 'a'))).toEqual([]);
    expect(f.push(Buffer.alloc(100, 'a'))[0]?.kind).toBe('error');
    expect(f.buffered).toBe(0);
  });
});
