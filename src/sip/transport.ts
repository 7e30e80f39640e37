/**
 * The transport layer contract (RFC 3261 §18): bytes out to an address, parsed
 * messages (or parse errors) in with where they came from. UDP and TCP
 * implement it here; TLS and WebSocket will too. Whether to answer a parse error
 * with 400 or to drop it is decided above, from `replyToParseError`.
 */
import type { SipMessage } from './message.ts';
import type { ParseError } from './parser.ts';

export type TransportProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** Where an inbound message came from, and the transport to answer through. */
export interface Source {
  readonly transport: Transport;
  readonly remote: Endpoint;
}

export interface TransportDelegate {
  onMessage(message: SipMessage, source: Source): void;
  onParseError(error: ParseError, source: Source): void;
  /** A connection failed or was refused for a framing error; informational. */
  onTransportError?(reason: string, remote: Endpoint): void;
}

export interface Transport {
  readonly protocol: TransportProtocol;
  /** Reliable transports need no retransmissions (RFC 3261 §17). */
  readonly reliable: boolean;
  readonly local: Endpoint;
  /** Sends one serialised message; rejects on a transport error. */
  send(data: Uint8Array, destination: Endpoint): Promise<void>;
  /**
   * Sends one serialised message without a promise: `done` hears the outcome (null, or the
   * transport error) later, never from within the call. The hot path of the transaction
   * layer (issue #4: ~7 datagrams per call, each a promise, its executor and two closures
   * with `send`). A transport without it is sent to through `send` (`postOn`).
   */
  post?(data: Uint8Array, destination: Endpoint, done: SendDone): void;
  close(): Promise<void>;
}

/** The outcome of a `post`: null once sent, the transport error otherwise (Node's callback convention). */
export type SendDone = (error: Error | null) => void;

/** Sends through `post` when the transport has it, through `send` otherwise; `done` hears the outcome. */
export function postOn(transport: Transport, data: Uint8Array, destination: Endpoint, done: SendDone): void {
  if (transport.post !== undefined) transport.post(data, destination, done);
  else transport.send(data, destination).then(() => done(null), (e: unknown) => done(e instanceof Error ? e : new Error(String(e))));
}

/** `::ffff:192.0.2.1` → `192.0.2.1`, so that the same peer has one key. */
export const normalizeAddress = (address: string): string =>
  // Only an address starting with `::ffff:` can change: the others skip the regular expression (one per datagram received).
  address.length > 7 && address.charCodeAt(0) === 0x3a && address.charCodeAt(1) === 0x3a ? address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/iu, '') : address;

export const endpointKey = (e: Endpoint): string => `${normalizeAddress(e.address)}|${e.port}`;

/** True for datagrams or stream chunks made only of CRLF/NUL keep-alives. */
export const isKeepAlive = (data: Uint8Array): boolean => data.length > 0 && data.every((b) => b === 0x0d || b === 0x0a || b === 0);
