/**
 * Cuts a byte stream (TCP, TLS) into SIP messages using Content-Length, which is
 * mandatory on streams (RFC 3261 §18.3). CRLFs between messages are skipped; a
 * CRLFCRLF there is an RFC 5626 keep-alive ping (answer it with CRLF), a lone
 * CRLF a pong. A framing error is final: the connection must be closed.
 */
import { trimWs } from './syntax.ts';
export type FrameEvent =
  | { readonly kind: 'message'; readonly data: Uint8Array }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' }
  | { readonly kind: 'error'; readonly reason: string };

export interface FramerOptions {
  /** Largest message (headers and body) accepted, and so the most buffered: 64 KiB by default. */
  readonly maxMessageSize?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:(.*)$/iu;

export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;
  /** Where to resume the search for the end of the headers. */
  private scanned = 0;
  private readonly maxMessageSize: number;

  constructor(options: FramerOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? 65536;
  }

  /** Bytes received but not yet framed. */
  get buffered(): number {
    return this.buffer.length;
  }

  push(chunk: Uint8Array): FrameEvent[] {
    if (this.failed) return [{ kind: 'error', reason: 'stream already failed' }];
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const events: FrameEvent[] = [];
    for (;;) {
      const event = this.next();
      if (event === undefined) return events;
      events.push(event);
      if (event.kind === 'error') {
        this.failed = true;
        this.buffer = Buffer.alloc(0);
        return events;
      }
    }
  }

  private consume(n: number): void {
    this.buffer = this.buffer.subarray(n);
    this.scanned = 0;
  }

  private next(): FrameEvent | undefined {
    const b = this.buffer;
    if (b.length === 0) return undefined;
    if (b[0] === CR) {
      if (b.length < 2) return undefined;
      if (b[1] !== LF) return { kind: 'error', reason: 'bare CR between messages' };
      if (b.length < 4) {
        if (b.length === 3 && b[2] !== CR) return this.pong();
        return undefined;
      }
      if (b[2] === CR && b[3] === LF) {
        this.consume(4);
        return { kind: 'ping' };
      }
      return this.pong();
    }
    const headEnd = b.indexOf(CRLFCRLF, Math.max(0, this.scanned - 3));
    if (headEnd < 0) {
      this.scanned = b.length;
      return b.length > this.maxMessageSize ? { kind: 'error', reason: 'headers exceed the maximum message size' } : undefined;
    }
    const length = contentLength(b.subarray(0, headEnd).toString('latin1'));
    if (typeof length === 'string') return { kind: 'error', reason: length };
    const total = headEnd + 4 + length;
    if (total > this.maxMessageSize) return { kind: 'error', reason: 'message exceeds the maximum size' };
    if (b.length < total) {
      this.scanned = headEnd;
      return undefined;
    }
    const data = new Uint8Array(b.subarray(0, total));
    this.consume(total);
    return { kind: 'message', data };
  }

  private pong(): FrameEvent {
    this.consume(2);
    return { kind: 'pong' };
  }
}

/** The Content-Length of a head, or the reason it cannot frame the message. */
function contentLength(head: string): number | string {
  let found: number | undefined;
  for (const line of head.replace(/\r\n[ \t]+/gu, ' ').split('\r\n').slice(1)) {
    const m = CONTENT_LENGTH.exec(line);
    if (!m) continue;
    if (found !== undefined) return 'more than one Content-Length';
    const value = trimWs(m[1]!);
    if (!/^\d{1,10}$/u.test(value)) return 'invalid Content-Length';
    found = Number(value);
  }
  return found ?? 'missing Content-Length on a stream';
}
