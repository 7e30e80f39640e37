/**
 * SIP over UDP (RFC 3261 §18) with the socket in a worker thread of its own (issue #4): the
 * thread that runs the SIP stack makes no system call per datagram. In `bench:sip` the
 * datagrams' system calls and Node's per-datagram work around them (`recvmsg`/`sendmsg`, the
 * `rinfo` object, the send request and its callback…) were a third of the SIP thread's time,
 * and that thread is the one bound: here the socket thread does them on another core and the
 * two threads exchange the datagrams of a turn of their event loops in ONE message each way
 * (the bytes of all of them in one transferred buffer), whatever the number of datagrams.
 *
 * Same contract as `UdpTransport` (one datagram, one message; oversized datagrams and
 * keep-alives dropped; parse errors to the delegate with the source; a send's outcome to its
 * `done`), same socket options. The socket's thread is plain JavaScript (no TypeScript loader
 * in the worker): the code below, run with `eval`.
 */
import { Worker } from 'node:worker_threads';
import { type Endpoint, type SendDone, normalizeAddress } from './transport.ts';
import { type TurnBatch, TurnOutbox, UDP_RECEIVE_BUFFER, UDP_TURN_DATAGRAMS, type UdpOptions, UdpTransportBase, deliverDatagram } from './udp.ts';

/** A batch of datagrams between the threads: the bytes one after the other, their lengths, where each goes or came from. */
interface Batch {
  readonly bytes: ArrayBuffer;
  readonly lengths: number[];
  readonly addresses: string[];
  readonly ports: number[];
}

type FromSocket =
  | { readonly t: 'ready'; readonly address: string; readonly port: number; readonly receiveBufferBytes: number }
  | { readonly t: 'failed'; readonly message: string; readonly code: string | undefined }
  /** `dropped`: the datagrams let go since the last batch, the SIP thread being too far behind (`backlogBytes`). */
  | ({ readonly t: 'in'; readonly dropped: number } & Batch)
  /** The sends up to `upTo` (a running count) are done; `errors` names those that failed: [index, message, code]. */
  | { readonly t: 'sent'; readonly upTo: number; readonly errors: [number, string, string | undefined][] }
  | { readonly t: 'error'; readonly message: string }
  | { readonly t: 'closed' };

/**
 * The socket's thread: binds, then batches what arrives during a turn of its event loop into
 * one message (posted from `setImmediate`, after the poll phase read what was ready), and
 * sends what the SIP thread hands over, in order, reporting the outcomes once per batch.
 * Oversized datagrams and keep-alives never leave it. A literal address skips `dns.lookup`.
 * Its `lookup` and `isKeepAlive` are those of `udp.ts` (`literalFirstLookup`, `isKeepAlive`
 * of transport.ts) written again in JavaScript: the thread loads no TypeScript.
 */
const SOCKET_THREAD = `
'use strict';
const dgram = require('node:dgram');
const dns = require('node:dns');
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { host, port, max, receiveBufferBytes, backlogBytes, counts } = workerData;
// counts[0]: bytes handed to the SIP thread, counts[1]: bytes it has handled (running, modulo 2^32).
const handled = new Int32Array(counts);
const lookup = (hostname, family, callback) => {
  const literal = net.isIP(hostname);
  if (literal !== 0) callback(null, hostname, literal);
  else dns.lookup(hostname, family, callback);
};
const isKeepAlive = (d) => d.length > 0 && d.every((b) => b === 0x0d || b === 0x0a || b === 0);
const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', lookup });
let inbound = [], addresses = [], ports = [], inBytes = 0, inScheduled = false, dropped = 0;
const flushIn = () => {
  inScheduled = false;
  if (inbound.length === 0) {
    if (dropped > 0) { parentPort.postMessage({ t: 'in', bytes: new ArrayBuffer(0), lengths: [], addresses: [], ports: [], dropped }); dropped = 0; }
    return;
  }
  const bytes = new Uint8Array(inBytes);
  const lengths = new Array(inbound.length);
  let at = 0;
  for (let i = 0; i < inbound.length; i++) {
    const d = inbound[i];
    bytes.set(d, at);
    at += d.length;
    lengths[i] = d.length;
  }
  const message = { t: 'in', bytes: bytes.buffer, lengths, addresses, ports, dropped };
  Atomics.add(handled, 0, inBytes);
  inbound = []; addresses = []; ports = []; inBytes = 0; dropped = 0;
  parentPort.postMessage(message, [message.bytes]);
};
let sentCount = 0, doneCount = 0, errors = [], sentScheduled = false, closing = false, finished = false;
const flushSent = () => {
  sentScheduled = false;
  const message = { t: 'sent', upTo: doneCount, errors };
  errors = [];
  parentPort.postMessage(message);
};
// Closed once everything handed over has left (a final answer, a BYE) and its outcome is reported.
const finish = () => {
  if (finished) return;
  finished = true;
  flushSent();
  socket.close(() => parentPort.postMessage({ t: 'closed' }));
};
// Sends complete in the order they were made (libuv's queue is first in, first out, and a
// send is tried at once only when nothing is queued): the outcomes are reported up to a count.
const onSent = (index) => (e) => {
  doneCount++;
  if (e) errors.push([index, e.message, e.code]);
  if (closing && doneCount === sentCount) finish();
  else if (!sentScheduled) { sentScheduled = true; setImmediate(flushSent); }
};
parentPort.on('message', (m) => {
  if (m.t === 'out') {
    const bytes = new Uint8Array(m.bytes);
    let at = 0;
    for (let i = 0; i < m.lengths.length; i++) {
      const length = m.lengths[i];
      const index = sentCount++;
      try {
        socket.send(bytes.subarray(at, at + length), m.ports[i], m.addresses[i], onSent(index));
      } catch (e) {
        process.nextTick(onSent(index), e instanceof Error ? e : new Error(String(e)));
      }
      at += length;
    }
  } else if (m.t === 'close') {
    closing = true;
    if (doneCount === sentCount) finish();
  }
});
socket.once('error', (e) => parentPort.postMessage({ t: 'failed', message: e.message, code: e.code }));
socket.bind(port, host, () => {
  socket.removeAllListeners('error');
  socket.on('error', (e) => parentPort.postMessage({ t: 'error', message: e.message }));
  try { socket.setRecvBufferSize(receiveBufferBytes); } catch {}
  socket.on('message', (data, rinfo) => {
    if (data.length > max || isKeepAlive(data)) return;
    const backlog = (Atomics.load(handled, 0) - Atomics.load(handled, 1) + inBytes) | 0;
    if (backlog + data.length > backlogBytes) {
      dropped++;
      if (!inScheduled) { inScheduled = true; setImmediate(flushIn); }
      return;
    }
    inbound.push(data);
    addresses.push(rinfo.address);
    ports.push(rinfo.port);
    inBytes += data.length;
    if (!inScheduled) { inScheduled = true; setImmediate(flushIn); }
  });
  const a = socket.address();
  parentPort.postMessage({ t: 'ready', address: a.address, port: a.port, receiveBufferBytes: socket.getRecvBufferSize() });
});
`;

/** What the SIP thread hands over during a turn, sent to the socket's thread as one batch after it. */
class Outbox extends TurnOutbox {
  /** The `done` of every datagram handed over and not yet reported, oldest first; `first` is the index of `pending[0]`. */
  private pending: SendDone[] = [];
  private first = 0;

  constructor(private readonly worker: Worker) {
    super();
  }

  protected send({ data, ports, addresses, dones }: TurnBatch): void {
    let size = 0;
    for (const d of data) size += d.length;
    const bytes = new Uint8Array(size);
    const lengths = new Array<number>(data.length);
    let at = 0;
    for (let i = 0; i < data.length; i++) {
      const d = data[i]!;
      bytes.set(d, at);
      at += d.length;
      lengths[i] = d.length;
    }
    for (const done of dones) this.pending.push(done);
    this.worker.postMessage({ t: 'out', bytes: bytes.buffer, lengths, addresses, ports }, [bytes.buffer]);
  }

  /** The socket's thread reported the sends up to `upTo`: each `done` hears its outcome, in order. */
  sent(upTo: number, errors: readonly [number, string, string | undefined][]): void {
    const dones = this.pending.splice(0, upTo - this.first);
    const failed = errors.length === 0 ? undefined : new Map(errors.map(([i, message, code]) => [i, Object.assign(new Error(message), { code })]));
    for (let i = 0; i < dones.length; i++) dones[i]!(failed?.get(this.first + i) ?? null);
    this.first = upTo;
  }

  /** The thread is gone: every send not reported fails. */
  abandon(error: Error): void {
    this.flush();
    const dones = this.pending;
    this.pending = [];
    for (const done of dones) done(error);
  }
}

export class ThreadedUdpTransport extends UdpTransportBase<Outbox> {
  private closing: Promise<void> | undefined;
  private exited = false;
  private dropped = 0;
  /** Batches received and not yet handled, oldest first; `inIndex`/`inOffset`: the next datagram of the first. */
  private inbound: (FromSocket & { t: 'in' })[] = [];
  private inIndex = 0;
  private inOffset = 0;

  /** Datagrams the socket's thread let go because this thread was too far behind (`backlogBytes`). */
  get droppedDatagrams(): number {
    return this.dropped;
  }

  private constructor(
    private readonly worker: Worker,
    local: Endpoint,
    maxDatagramSize: number,
    /** The receive buffer the kernel gave the socket (Linux reports twice the size asked, capped by `rmem_max`). */
    readonly receiveBufferBytes: number,
    /** Shared with the socket's thread: [1] counts the bytes handled here (its backlog bound). */
    private readonly handled: Int32Array,
    private readonly turnDatagrams: number,
  ) {
    super(local, maxDatagramSize, new Outbox(worker));
  }

  static listen(o: UdpOptions): Promise<ThreadedUdpTransport> {
    const max = o.maxDatagramSize ?? 65507;
    const receiveBufferBytes = o.receiveBufferBytes ?? UDP_RECEIVE_BUFFER;
    const counts = new SharedArrayBuffer(8);
    const worker = new Worker(SOCKET_THREAD, {
      eval: true,
      workerData: { host: o.host, port: o.port, max, receiveBufferBytes, backlogBytes: o.backlogBytes ?? receiveBufferBytes, counts },
      // No loader hooks, no inherited --import: the socket's thread is plain JavaScript.
      execArgv: [],
    });
    return new Promise((resolve, reject) => {
      let transport: ThreadedUdpTransport | undefined;
      worker.on('message', (m: FromSocket) => {
        if (transport !== undefined) {
          transport.fromSocket(m, o);
          return;
        }
        if (m.t === 'ready') {
          transport = new ThreadedUdpTransport(worker, { address: m.address, port: m.port }, max, m.receiveBufferBytes, new Int32Array(counts), Math.max(1, o.turnDatagrams ?? UDP_TURN_DATAGRAMS));
          resolve(transport);
        } else if (m.t === 'failed') {
          void worker.terminate();
          reject(Object.assign(new Error(m.message), { code: m.code }));
        }
      });
      worker.on('error', (e) => {
        if (transport === undefined) reject(e);
        else transport.lost(e, o);
      });
      worker.on('exit', (code) => {
        if (transport !== undefined) transport.exited = true;
        if (transport === undefined) reject(new Error(`the UDP socket's thread exited (${code}) before listening`));
        else if (!transport.closed) transport.lost(new Error(`the UDP socket's thread exited (${code})`), o);
      });
    });
  }

  private fromSocket(m: FromSocket, o: UdpOptions): void {
    if (m.t === 'in') {
      if (m.lengths.length > 0) {
        this.inbound.push(m);
        // A batch already waiting means its turn is scheduled (`handleInbound`); this one follows it.
        if (this.inbound.length === 1) this.handleInbound(o);
      }
      if (m.dropped > 0) {
        this.dropped += m.dropped;
        o.delegate.onTransportError?.(`${m.dropped} datagram(s) dropped: the SIP thread is more than the backlog bound behind`, this.local);
      }
    } else if (m.t === 'sent') this.outbox.sent(m.upTo, m.errors);
    else if (m.t === 'error') o.delegate.onTransportError?.(m.message, this.local);
  }

  /**
   * Hands the oldest batches' datagrams to the delegate, at most `turnDatagrams` in this turn,
   * the rest in the next turns (`setImmediate`): between them the event loop polls, so a
   * database reply that arrived meanwhile is read after a few datagrams, not after every one
   * of a burst (issue #4: the REGISTER storm waited ≈ 5 ms per location statement for the
   * loop to reach its result), and this turn's answers leave before the next datagrams.
   */
  private handleInbound(o: UdpOptions): void {
    try {
      this.handleSlice(o);
    } finally {
      // Even after a delegate threw: the rest of the burst is not stranded.
      if (this.closed) this.inbound = [];
      else if (this.inbound.length > 0) setImmediate(() => this.handleInbound(o));
    }
  }

  private handleSlice(o: UdpOptions): void {
    let budget = this.turnDatagrams;
    let bytes = 0;
    try {
      while (budget > 0 && this.inbound.length > 0 && !this.closed) {
        const batch = this.inbound[0]!;
        const { lengths, addresses, ports } = batch;
        const i = this.inIndex;
        const length = lengths[i]!;
        const at = this.inOffset;
        this.inIndex = i + 1;
        this.inOffset = at + length;
        if (this.inIndex === lengths.length) {
          this.inbound.shift();
          this.inIndex = 0;
          this.inOffset = 0;
        }
        budget--;
        bytes += length;
        deliverDatagram(Buffer.from(batch.bytes, at, length), { transport: this, remote: { address: normalizeAddress(addresses[i]!), port: ports[i]! } }, o.delegate);
      }
    } finally {
      // Once per slice, a throwing delegate included: the socket thread's backlog bound reads it.
      Atomics.add(this.handled, 1, bytes);
    }
  }

  private lost(e: Error, o: UdpOptions): void {
    this.closed = true;
    this.outbox.abandon(e);
    o.delegate.onTransportError?.(`the UDP socket's thread stopped: ${e.message}`, this.local);
  }

  /** What was handed over before the close still leaves (a final answer, a BYE). */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.outbox.flush();
    this.closed = true;
    if (this.exited) return (this.closing = Promise.resolve());
    this.closing = new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (m: FromSocket) => {
        if (m.t === 'closed') void this.worker.terminate();
      });
      this.worker.postMessage({ t: 'close' });
    });
    return this.closing;
  }
}
