/**
 * SIP over UDP (RFC 3261 §18): one datagram, one message. Oversized datagrams
 * and keep-alives are dropped; parse errors go to the delegate with the source.
 */
import { type Socket, createSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { parseMessage } from './parser.ts';
import { type Endpoint, type SendDone, type Source, type Transport, type TransportDelegate, isKeepAlive, normalizeAddress } from './transport.ts';

export interface UdpOptions {
  readonly host: string;
  /** 0 picks an ephemeral port. */
  readonly port: number;
  readonly delegate: TransportDelegate;
  /** Largest datagram accepted or sent: 65507 (the IPv4 UDP maximum) by default. */
  readonly maxDatagramSize?: number;
  /** The socket's receive buffer (SO_RCVBUF): `UDP_RECEIVE_BUFFER` by default. */
  readonly receiveBufferBytes?: number;
  /**
   * `ThreadedUdpTransport` only: the most bytes received by the socket's thread and not yet
   * handled by the SIP thread (the receive buffer's size asked by default). Past it datagrams
   * are dropped, as a full receive buffer drops them: a SIP thread that falls behind gets its
   * peers' retransmissions later, not an ever-growing queue.
   */
  readonly backlogBytes?: number;
  /**
   * `ThreadedUdpTransport` only: the most datagrams handed to the delegate in one turn of the
   * event loop (`UDP_TURN_DATAGRAMS` by default); the rest of a burst waits for the next turns,
   * after the loop has polled its other sockets (the database's replies).
   */
  readonly turnDatagrams?: number;
}

/** Datagrams handled per turn of the SIP thread's event loop by `ThreadedUdpTransport` (≈ 1 ms of work in bench:sip). */
export const UDP_TURN_DATAGRAMS = 16;

/**
 * The receive buffer asked for the socket: 4 MiB. The kernel default (208 KiB on Linux) holds
 * ~250 INVITEs: a burst arriving while the event loop is busy (a GC, a batch of database
 * results) overflowed it and the datagrams were dropped, each costing its sender a 500 ms
 * retransmission (bench:sip: ~560 drops per 3 000 calls at the maximum rate). Linux caps the
 * request at `net.core.rmem_max` without an error.
 */
export const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;

/**
 * The socket's name resolution: an IP literal (every reply, every binding) is handed back
 * at once, so that `send` goes out in the same turn instead of after a `process.nextTick`
 * hop through `dns.lookup`; a host name (a trunk configured by name) goes to `dns.lookup`.
 */
export function literalFirstLookup(hostname: string, family: number, callback: (err: Error | null, address: string, family: number) => void): void {
  const literal = isIP(hostname);
  if (literal !== 0) callback(null, hostname, literal);
  else dnsLookup(hostname, family, callback);
}

/** The datagrams handed over during a turn, in order, each with its destination and `done`. */
export interface TurnBatch {
  readonly data: Uint8Array[];
  readonly ports: number[];
  readonly addresses: string[];
  readonly dones: SendDone[];
}

/**
 * The datagrams of one turn of the event loop go out together (§18 unchanged: one message,
 * one datagram, in the order they were handed over). A `sendmsg` that wakes a sleeping
 * receiver pays for the wake-up (on a virtual machine an inter-processor interrupt: measured
 * ≈ 40 µs a datagram on the bench machine, ≈ 10 µs when the receiver is already awake); sent
 * back to back after the turn's input is handled, the datagrams of a burst share one wake-up
 * per receiver instead of paying one each (issue #4: `doSend` was a fifth of the main thread
 * in bench:sip). The flush runs in the event loop's check phase (`setImmediate`): after every
 * datagram and database reply of the current poll phase, before the loop waits again; a lone
 * datagram leaves in the same turn.
 *
 * What is handed over is flushed together after the turn (`setImmediate`, or `flush` at once),
 * in order: `send` gets the batch (the socket here; the socket's thread in `udp-thread.ts`).
 */
export abstract class TurnOutbox {
  private data: Uint8Array[] = [];
  private ports: number[] = [];
  private addresses: string[] = [];
  private dones: SendDone[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  push(data: Uint8Array, destination: Endpoint, done: SendDone): void {
    this.data.push(data);
    this.ports.push(destination.port);
    this.addresses.push(destination.address);
    this.dones.push(done);
    this.scheduled ??= setImmediate(this.flush);
  }

  readonly flush = (): void => {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const { data, ports, addresses, dones } = this;
    if (data.length === 0) return;
    this.data = [];
    this.ports = [];
    this.addresses = [];
    this.dones = [];
    this.send({ data, ports, addresses, dones });
  };

  protected abstract send(batch: TurnBatch): void;
}

class Outbox extends TurnOutbox {
  constructor(private readonly socket: Socket) {
    super();
  }

  /** Sends what is queued, in order; each outcome goes to its `done` (a socket that refuses at once: on the next tick). */
  protected send({ data, ports, addresses, dones }: TurnBatch): void {
    for (let i = 0; i < data.length; i++) {
      const done = dones[i] as SendDone;
      try {
        this.socket.send(data[i] as Uint8Array, ports[i], addresses[i], done);
      } catch (e) {
        process.nextTick(done, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}

const closedError = (): Error => Object.assign(new Error('the UDP transport is closed'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });

/** Why a datagram cannot be handed to a UDP transport (too large, transport closed), or undefined. */
export function udpRefusal(length: number, maxDatagramSize: number, closed: boolean): Error | undefined {
  if (length > maxDatagramSize) return new RangeError(`datagram of ${length} bytes is too large`);
  return closed ? closedError() : undefined;
}

/** One datagram received: parsed, then to the delegate as a message or a parse error, with its source. */
export function deliverDatagram(data: Buffer, source: Source, delegate: TransportDelegate): void {
  const r = parseMessage(data);
  if (r.ok) delegate.onMessage(r.message, source);
  else delegate.onParseError(r.error, source);
}

/** What both UDP transports share: sending through their `TurnOutbox`, refusals on the next tick. */
export abstract class UdpTransportBase<O extends TurnOutbox = TurnOutbox> implements Transport {
  readonly protocol = 'UDP';
  readonly reliable = false;
  protected closed = false;

  protected constructor(
    readonly local: Endpoint,
    private readonly maxDatagramSize: number,
    protected readonly outbox: O,
  ) {}

  send(data: Uint8Array, destination: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => this.post(data, destination, (e) => (e ? reject(e) : resolve())));
  }

  /**
   * `send` without a promise: queued for the turn's flush (`TurnOutbox`); `done` hears the
   * outcome later, never from within the call. A closed transport's refusal, or a datagram
   * too large, reaches `done` on the next tick, as `send`'s promise rejects.
   */
  post(data: Uint8Array, destination: Endpoint, done: SendDone): void {
    const refused = udpRefusal(data.length, this.maxDatagramSize, this.closed);
    if (refused === undefined) this.outbox.push(data, destination, done);
    else process.nextTick(done, refused);
  }

  abstract close(): Promise<void>;
}

export class UdpTransport extends UdpTransportBase {
  private constructor(
    private readonly socket: Socket,
    local: Endpoint,
    maxDatagramSize: number,
  ) {
    super(local, maxDatagramSize, new Outbox(socket));
  }

  static listen(o: UdpOptions): Promise<UdpTransport> {
    const socket = createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4', lookup: literalFirstLookup as unknown as typeof dnsLookup });
    const max = o.maxDatagramSize ?? 65507;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.port, o.host, () => {
        socket.off('error', reject);
        try {
          socket.setRecvBufferSize(o.receiveBufferBytes ?? UDP_RECEIVE_BUFFER);
        } catch {
          // A system refusing the size (not Linux: it caps it) keeps its default buffer.
        }
        const a = socket.address();
        const transport = new UdpTransport(socket, { address: a.address, port: a.port }, max);
        socket.on('message', (data, rinfo) => {
          if (data.length > max || isKeepAlive(data)) return;
          deliverDatagram(data, { transport, remote: { address: normalizeAddress(rinfo.address), port: rinfo.port } }, o.delegate);
        });
        socket.on('error', (e) => o.delegate.onTransportError?.(e.message, transport.local));
        resolve(transport);
      });
    });
  }

  /** The receive buffer the kernel gave the socket (Linux reports twice the size asked, capped by `rmem_max`). */
  get receiveBufferBytes(): number {
    return this.socket.getRecvBufferSize();
  }

  /** What was handed over before the close still leaves (a final answer, a BYE). */
  close(): Promise<void> {
    this.closed = true;
    this.outbox.flush();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
