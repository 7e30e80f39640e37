import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

/**
 * The one typed configuration of the platform, read from environment variables
 * with defaults. A wrong value stops start-up with a message naming the variable.
 */
export interface Config {
  http: { host: string; port: number; publicUrl: string };
  sip: {
    host: string;
    udpPort: number;
    tcpPort: number;
    domain: string;
    /**
     * Digest algorithms the registrar offers, in order (E2P_SIP_DIGEST_ALGORITHMS):
     * SHA-256 then MD5 by default (RFC 8760); `MD5` alone for sipp and old phones
     * that read only the first challenge or give up on SHA-256.
     */
    digestAlgorithms: SipDigestAlgorithm[];
    /** The carrier trunk for external numbers (E2P_SIP_TRUNK); undefined → external calls answer 503. */
    trunk: SipTrunk | undefined;
    /** The emergency route (E2P_SIP_EMERGENCY_ROUTE), §8.7; undefined → the trunk. */
    emergencyRoute: SipTrunk | undefined;
    /** Source addresses not digest-challenged, whose INVITEs are calls to our DIDs (E2P_SIP_TRUSTED_CARRIERS). */
    trustedCarriers: string[];
    /** A call longer than this is ended by the server (E2P_SIP_MAX_CALL_SECONDS, 14400 = 4 h). */
    maxCallSeconds: number;
    /**
     * This SIP node's name on the CDRs it opens (E2P_SIP_NODE_ID, the host name by default):
     * at start-up a node closes only its own open CDRs. Give each process its own when
     * several run on one host.
     */
    nodeId: string;
    /**
     * The UDP socket in a thread of its own (E2P_SIP_UDP_THREAD, `true` by default): the SIP
     * thread then makes no system call per datagram (issue #4, src/sip/udp-thread.ts);
     * `false` keeps the socket in the SIP thread (one thread less).
     */
    udpThread: boolean;
  };
  /** `postgres://…` to use a PostgreSQL server; undefined = embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  /** The call policy (issue #7, docs/operator-guide.md "Call policy"). */
  policy: {
    /**
     * Where the live counters of the §4.3b/§4.10 limits are kept (E2P_POLICY_COUNTERS):
     * `memory` (one SIP node), `redis` (several nodes sharing E2P_REDIS_URL), `database`
     * (the per-client locked transaction: several nodes without Redis, slower). Default:
     * `redis` when E2P_REDIS_URL is set, else `memory` on PGlite (one process), else `database`.
     */
    counters: 'memory' | 'redis' | 'database';
    /** E2P_REDIS_URL (`redis://` or `rediss://`). */
    redisUrl: string | undefined;
    /** Decisions ended (or refused) longer ago than this are deleted (E2P_POLICY_RETENTION_DAYS, 90). */
    retentionDays: number;
  };
  dataDir: string;
  smtp: { url: string; from: string };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  admin: { email: string; password: string | undefined };
  /** Secret used for SIP nonces and other HMACs; generated and kept in dataDir when unset. */
  secret: string | undefined;
}

export type SipDigestAlgorithm = 'SHA-256' | 'MD5';

/** An upstream SIP peer (carrier trunk, emergency route): `sip:HOST[:PORT][;transport=udp|tcp]`. */
export interface SipTrunk {
  readonly host: string;
  readonly port: number;
  readonly transport: 'UDP' | 'TCP';
}
const SIP_DIGEST_ALGORITHMS: readonly SipDigestAlgorithm[] = ['SHA-256', 'MD5'];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (v.trim() !== v) throw new ConfigError(name, 'must not start or end with spaces');
  return v;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,5}$/.test(raw)) throw new ConfigError(name, `must be a port number (0-65535), got "${raw}"`);
  const n = Number(raw);
  if (n > 65535) throw new ConfigError(name, `must be a port number (0-65535), got "${raw}"`);
  return n;
}

function host(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(v)) throw new ConfigError(name, `must be a host name or IP address, got "${v}"`);
  return v;
}

function url(env: Env, name: string, protocols: string[], fallback?: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be a URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
}

function email(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  if (!/^[^\s@]+@[^\s@]+$/.test(v)) throw new ConfigError(name, `must be an e-mail address, got "${v}"`);
  return v;
}

function digestAlgorithms(env: Env, name: string): SipDigestAlgorithm[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return [...SIP_DIGEST_ALGORITHMS];
  const list = raw.split(',').map((a) => a.trim().toUpperCase());
  const found = list.map((a) => SIP_DIGEST_ALGORITHMS.find((k) => k === a));
  const unknown = list.find((_, i) => found[i] === undefined);
  if (unknown !== undefined) {
    throw new ConfigError(name, `must be a comma-separated list of ${SIP_DIGEST_ALGORITHMS.join(', ')}, got "${unknown}"`);
  }
  if (new Set(list).size !== list.length) throw new ConfigError(name, `lists an algorithm twice: "${raw}"`);
  return found.filter((a): a is SipDigestAlgorithm => a !== undefined);
}

function sipTrunk(env: Env, name: string): SipTrunk | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const m = /^sip:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:;transport=(udp|tcp))?$/iu.exec(raw.trim());
  const port = m?.[2] === undefined ? 5060 : Number(m[2]);
  if (m === null || port < 1 || port > 65535) {
    throw new ConfigError(name, `must be a SIP URI sip:HOST[:PORT][;transport=udp|tcp], got "${raw}"`);
  }
  return { host: m[1]!.replace(/^\[(.*)\]$/u, '$1'), port, transport: (m[3]?.toUpperCase() ?? 'UDP') as 'UDP' | 'TCP' };
}

function addressList(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const list = raw.split(',').map((a) => a.trim());
  const bad = list.find((a) => isIP(a) === 0);
  if (bad !== undefined) throw new ConfigError(name, `must be a comma-separated list of IP addresses, got "${bad}"`);
  return [...new Set(list)];
}

function nodeId(env: Env, name: string): string {
  const v = str(env, name, hostname());
  if (!/^[A-Za-z0-9._-]{1,64}$/u.test(v)) throw new ConfigError(name, `must be 1-64 letters, digits, '.', '_' or '-', got "${v}"`);
  return v;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, `must be true or false, got "${raw}"`);
  return raw === 'true';
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/u.test(raw) || Number(raw) < 1) throw new ConfigError(name, `must be a positive whole number, got "${raw}"`);
  return Number(raw);
}

const POLICY_COUNTERS = ['memory', 'redis', 'database'] as const;

function policyCounters(env: Env, databaseUrl: string | undefined, redisUrl: string | undefined): Config['policy']['counters'] {
  const name = 'E2P_POLICY_COUNTERS';
  const raw = env[name];
  if (raw === undefined || raw === '') return redisUrl !== undefined ? 'redis' : databaseUrl === undefined ? 'memory' : 'database';
  if (!(POLICY_COUNTERS as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${POLICY_COUNTERS.join(', ')}, got "${raw}"`);
  if (raw === 'redis' && redisUrl === undefined) throw new ConfigError(name, 'is redis but E2P_REDIS_URL is not set');
  return raw as Config['policy']['counters'];
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const httpHost = host(env, 'E2P_HTTP_HOST', '127.0.0.1');
  const httpPort = port(env, 'E2P_HTTP_PORT', 8080);
  const sipHost = host(env, 'E2P_SIP_HOST', '127.0.0.1');
  const dataDirRaw = str(env, 'E2P_DATA_DIR', './data');
  const logLevel = str(env, 'E2P_LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('E2P_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const adminPassword = env.E2P_ADMIN_PASSWORD;
  if (adminPassword !== undefined && adminPassword !== '' && adminPassword.length < 12) {
    throw new ConfigError('E2P_ADMIN_PASSWORD', 'must be at least 12 characters long');
  }
  const secret = env.E2P_SECRET;
  if (secret !== undefined && secret !== '' && secret.length < 32) {
    throw new ConfigError('E2P_SECRET', 'must be at least 32 characters long');
  }
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'E2P_REDIS_URL', ['redis:', 'rediss:']);
  const trunk = sipTrunk(env, 'E2P_SIP_TRUNK');
  const emergencyRoute = sipTrunk(env, 'E2P_SIP_EMERGENCY_ROUTE');
  const carrierHosts = [trunk, emergencyRoute].flatMap((t) => (t !== undefined && isIP(t.host) !== 0 ? [t.host] : []));
  const displayHost = httpHost === '0.0.0.0' || httpHost === '::' ? 'localhost' : httpHost;
  return {
    http: {
      host: httpHost,
      port: httpPort,
      publicUrl: url(env, 'E2P_PUBLIC_URL', ['http:', 'https:']) ?? `http://${displayHost}:${httpPort}`,
    },
    sip: {
      host: sipHost,
      udpPort: port(env, 'E2P_SIP_UDP_PORT', 5060),
      tcpPort: port(env, 'E2P_SIP_TCP_PORT', 5060),
      domain: host(env, 'E2P_SIP_DOMAIN', sipHost),
      digestAlgorithms: digestAlgorithms(env, 'E2P_SIP_DIGEST_ALGORITHMS'),
      trunk,
      emergencyRoute,
      trustedCarriers: addressList(env, 'E2P_SIP_TRUSTED_CARRIERS', [...new Set(carrierHosts)]),
      maxCallSeconds: positiveInt(env, 'E2P_SIP_MAX_CALL_SECONDS', 14_400),
      nodeId: nodeId(env, 'E2P_SIP_NODE_ID'),
      udpThread: onOff(env, 'E2P_SIP_UDP_THREAD', true),
    },
    databaseUrl,
    policy: { counters: policyCounters(env, databaseUrl, redisUrl), redisUrl, retentionDays: positiveInt(env, 'E2P_POLICY_RETENTION_DAYS', 90) },
    dataDir: isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw),
    smtp: {
      url: url(env, 'E2P_SMTP_URL', ['smtp:', 'smtps:'], 'smtp://127.0.0.1:25')!,
      from: email(env, 'E2P_SMTP_FROM', 'noreply@easy2phone.be'),
    },
    logLevel: logLevel as Config['logLevel'],
    admin: {
      email: email(env, 'E2P_ADMIN_EMAIL', 'admin@easy2phone.local'),
      password: adminPassword === '' ? undefined : adminPassword,
    },
    secret: secret === '' ? undefined : secret,
  };
}
