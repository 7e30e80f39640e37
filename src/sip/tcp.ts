/**
 * SIP over TCP (RFC 3261 §18): Content-Length framing with `StreamFramer`, one
 * connection per remote address reused for both directions, idle timeout,
 * per-connection buffer limit, RFC 5626 CRLF keep-alive answered with CRLF.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';
import { StreamFramer } from './framer.ts';
import { parseMessage } from './parser.ts';
import { type Endpoint, type Transport, type TransportDelegate, endpointKey, normalizeAddress } from './transport.ts';

export interface TcpOptions {
  readonly host: string;
  /** 0 picks an ephemeral port. */
  readonly port: number;
  readonly delegate: TransportDelegate;
  /** A connection idle that long is closed: 10 minutes by default. */
  readonly idleTimeoutMs?: number;
  /** Largest message, and so the most buffered per connection: 64 KiB by default. */
  readonly maxMessageSize?: number;
  /** Inbound connections accepted at once: 10 000 by default. */
  readonly maxConnections?: number;
}

export class TcpTransport implements Transport {
  readonly protocol = 'TCP';
  readonly reliable = true;
  private readonly connections = new Map<string, Socket>();
  private readonly connecting = new Map<string, Promise<Socket>>();

  private constructor(
    private readonly server: Server,
    readonly local: Endpoint,
    private readonly o: TcpOptions,
  ) {}

  static listen(o: TcpOptions): Promise<TcpTransport> {
    const server = createServer();
    server.maxConnections = o.maxConnections ?? 10_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        const a = server.address();
        if (a === null || typeof a === 'string') {
          reject(new Error('TCP server has no address'));
          return;
        }
        const transport = new TcpTransport(server, { address: a.address, port: a.port }, o);
        server.on('connection', (socket) => transport.adopt(socket));
        resolve(transport);
      });
    });
  }

  /** Connections currently open (inbound and outbound). */
  get connectionCount(): number {
    return this.connections.size;
  }

  private adopt(socket: Socket): void {
    const remote = { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const key = endpointKey(remote);
    this.connections.set(key, socket);
    const framer = new StreamFramer(this.o.maxMessageSize === undefined ? {} : { maxMessageSize: this.o.maxMessageSize });
    const source = { transport: this, remote };
    socket.setNoDelay(true);
    socket.setTimeout(this.o.idleTimeoutMs ?? 600_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      for (const event of framer.push(chunk)) {
        if (event.kind === 'ping') socket.write('\r\n');
        else if (event.kind === 'error') {
          this.o.delegate.onTransportError?.(event.reason, remote);
          socket.destroy();
        } else if (event.kind === 'message') {
          const r = parseMessage(event.data, { requireContentLength: true });
          if (r.ok) this.o.delegate.onMessage(r.message, source);
          else this.o.delegate.onParseError(r.error, source);
        }
      }
    });
    socket.on('error', (e) => this.o.delegate.onTransportError?.(e.message, remote));
    socket.on('close', () => {
      if (this.connections.get(key) === socket) this.connections.delete(key);
    });
  }

  private connection(destination: Endpoint): Promise<Socket> {
    const key = endpointKey(destination);
    const open = this.connections.get(key);
    if (open !== undefined && !open.destroyed) return Promise.resolve(open);
    const pending = this.connecting.get(key);
    if (pending !== undefined) return pending;
    const attempt = new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: destination.address, port: destination.port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        this.adopt(socket);
        this.connections.set(key, socket);
        socket.once('close', () => {
          if (this.connections.get(key) === socket) this.connections.delete(key);
        });
        resolve(socket);
      });
    }).finally(() => this.connecting.delete(key));
    this.connecting.set(key, attempt);
    return attempt;
  }

  async send(data: Uint8Array, destination: Endpoint): Promise<void> {
    const socket = await this.connection(destination);
    await new Promise<void>((resolve, reject) => {
      socket.write(data, (e) => (e ? reject(e) : resolve()));
    });
  }

  async close(): Promise<void> {
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
