/**
 * An in-memory `Transport` for protocol tests: records what is sent, delivers
 * what a test injects through the same parser the real transports use, and can
 * be told to fail sends (transport errors).
 */
import { parseMessage } from '../../src/sip/parser.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { serializeMessage } from '../../src/sip/serializer.ts';
import type { Endpoint, Transport, TransportDelegate, TransportProtocol } from '../../src/sip/transport.ts';

export interface SentMessage {
  readonly data: Uint8Array;
  readonly destination: Endpoint;
  /** The parsed form of what was sent (undefined if it does not parse). */
  readonly message: SipMessage | undefined;
}

export interface FakeTransportOptions {
  readonly protocol?: TransportProtocol;
  readonly local?: Endpoint;
  readonly delegate?: TransportDelegate;
}

export class FakeTransport implements Transport {
  readonly protocol: TransportProtocol;
  readonly reliable: boolean;
  readonly local: Endpoint;
  delegate: TransportDelegate | undefined;
  readonly sent: SentMessage[] = [];
  closed = false;
  private failures: Error[] = [];

  constructor(o: FakeTransportOptions = {}) {
    this.protocol = o.protocol ?? 'UDP';
    this.reliable = this.protocol !== 'UDP';
    this.local = o.local ?? { address: '192.0.2.1', port: 5060 };
    this.delegate = o.delegate;
  }

  send(data: Uint8Array, destination: Endpoint): Promise<void> {
    const failure = this.failures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    const r = parseMessage(data);
    this.sent.push({ data, destination, message: r.ok ? r.message : undefined });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The next send rejects with `error`. */
  failNextSend(error: Error = new Error('network unreachable')): void {
    this.failures.push(error);
  }

  /** Injects bytes (or a message) as if received from `from`. */
  deliver(input: Uint8Array | string | SipMessage, from: Endpoint = { address: '198.51.100.7', port: 5060 }): void {
    const data = typeof input === 'string' ? Buffer.from(input) : input instanceof Uint8Array ? input : serializeMessage(input);
    const r = parseMessage(data, { requireContentLength: this.reliable });
    const source = { transport: this, remote: from };
    if (r.ok) this.delegate?.onMessage(r.message, source);
    else this.delegate?.onParseError(r.error, source);
  }

  /** Sent messages, parsed. */
  messages(): SipMessage[] {
    return this.sent.flatMap((s) => (s.message === undefined ? [] : [s.message]));
  }
}
