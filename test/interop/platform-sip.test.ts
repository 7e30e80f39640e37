/**
 * The SIP service as `npm start` runs it: `createPlatform(...).listenSip()` binds
 * UDP and TCP on ephemeral ports, answers OPTIONS over real sockets, keeps the
 * nonce secret in `settings`, and `close()` stops it.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createPlatform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { settings } from '../../src/db/settings-schema.ts';
import { freshMemoryDatabase } from '../../src/db/template.ts';
import { createLogger } from '../../src/logger.ts';

const options = (port: number, transport: 'UDP' | 'TCP', localPort: number): string =>
  [
    'OPTIONS sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/${transport} 127.0.0.1:${localPort};branch=z9hG4bK-probe-${transport}`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1:${localPort}>;tag=probe`,
    `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: probe-${transport}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

/** One datagram out, the first datagram back (bounded). */
function udpProbe(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const limit = setTimeout(() => {
      socket.close();
      reject(new Error('no UDP answer'));
    }, 10_000);
    socket.on('message', (data) => {
      clearTimeout(limit);
      socket.close();
      resolve(data.toString());
    });
    socket.bind(0, '127.0.0.1', () => socket.send(options(port, 'UDP', socket.address().port), port, '127.0.0.1'));
  });
}

/** One request over a TCP connection, the answer up to its blank line (bounded). */
function tcpProbe(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error('no TCP answer'));
    }, 10_000);
    socket.on('connect', () => socket.write(options(port, 'TCP', socket.localPort ?? 0)));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n\r\n')) {
        clearTimeout(limit);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', reject);
  });
}

describe('platform SIP service', () => {
  it('listens on UDP and TCP, answers OPTIONS, keeps the nonce secret, stops on close', async () => {
    const database = await freshMemoryDatabase();
    try {
      const config = loadConfig({ E2P_SIP_UDP_PORT: '0', E2P_SIP_TCP_PORT: '0', E2P_LOG_LEVEL: 'silent' });
      const platform = await createPlatform(config, { database, logger: createLogger('silent') });
      const { udp, tcp } = await platform.listenSip();
      expect(udp.port).toBeGreaterThan(0);
      expect(tcp.port).toBeGreaterThan(0);
      expect(await udpProbe(udp.port)).toMatch(/^SIP\/2\.0 200 OK\r\n/u);
      expect(await tcpProbe(tcp.port)).toMatch(/^SIP\/2\.0 200 OK\r\n[\s\S]*Allow: REGISTER/u);
      const [secret] = await database.db.select().from(settings).where(eq(settings.key, 'sip.nonceSecret'));
      expect(typeof secret?.value).toBe('string');
      await platform.close();
      await expect(tcpProbe(tcp.port)).rejects.toThrow(/ECONNREFUSED/u);
    } finally {
      await database.close();
    }
  });
});
