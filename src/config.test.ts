import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('config', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({}, '/srv/e2p');
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080' });
    expect(c.sip).toEqual({
      host: '127.0.0.1',
      udpPort: 5060,
      tcpPort: 5060,
      domain: '127.0.0.1',
      digestAlgorithms: ['SHA-256', 'MD5'],
      trunk: undefined,
      emergencyRoute: undefined,
      trustedCarriers: [],
      maxCallSeconds: 14_400,
      nodeId: hostname(),
      udpThread: true,
    });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toBe('/srv/e2p/data');
    expect(c.logLevel).toBe('info');
    expect(c.smtp.url).toBe('smtp://127.0.0.1:25');
    expect(c.admin).toEqual({ email: 'admin@easy2phone.local', password: undefined });
  });

  it('reads every variable', () => {
    const c = loadConfig(
      {
        E2P_HTTP_HOST: '0.0.0.0',
        E2P_HTTP_PORT: '9000',
        E2P_SIP_HOST: '10.0.0.1',
        E2P_SIP_UDP_PORT: '5070',
        E2P_SIP_TCP_PORT: '5071',
        E2P_SIP_DOMAIN: 'sip.easy2phone.be',
        E2P_SIP_DIGEST_ALGORITHMS: 'MD5',
        E2P_SIP_TRUNK: 'sip:10.0.0.9:5080;transport=tcp',
        E2P_SIP_EMERGENCY_ROUTE: 'sip:192.0.2.112',
        E2P_SIP_TRUSTED_CARRIERS: '10.0.0.9, 10.0.0.10',
        E2P_SIP_MAX_CALL_SECONDS: '7200',
        E2P_SIP_NODE_ID: 'sip-2',
        E2P_SIP_UDP_THREAD: 'false',
        DATABASE_URL: 'postgres://u@db:5432/e2p',
        E2P_DATA_DIR: '/var/lib/e2p',
        E2P_SMTP_URL: 'smtps://mail:465',
        E2P_SMTP_FROM: 'billing@easy2phone.be',
        E2P_LOG_LEVEL: 'debug',
        E2P_ADMIN_EMAIL: 'ops@easy2phone.be',
        E2P_ADMIN_PASSWORD: 'correct horse battery',
      },
      '/x',
    );
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9000, publicUrl: 'http://localhost:9000' });
    expect(c.sip).toEqual({
      host: '10.0.0.1',
      udpPort: 5070,
      tcpPort: 5071,
      domain: 'sip.easy2phone.be',
      digestAlgorithms: ['MD5'],
      trunk: { host: '10.0.0.9', port: 5080, transport: 'TCP' },
      emergencyRoute: { host: '192.0.2.112', port: 5060, transport: 'UDP' },
      trustedCarriers: ['10.0.0.9', '10.0.0.10'],
      maxCallSeconds: 7200,
      nodeId: 'sip-2',
      udpThread: false,
    });
    expect(c.databaseUrl).toBe('postgres://u@db:5432/e2p');
    expect(c.dataDir).toBe('/var/lib/e2p');
    expect(c.smtp).toEqual({ url: 'smtps://mail:465', from: 'billing@easy2phone.be' });
    expect(c.logLevel).toBe('debug');
    expect(c.admin).toEqual({ email: 'ops@easy2phone.be', password: 'correct horse battery' });
  });

  it.each([
    ['E2P_HTTP_PORT', 'eighty'],
    ['E2P_HTTP_PORT', '65536'],
    ['E2P_HTTP_PORT', '-1'],
    ['E2P_SIP_UDP_PORT', '5060.5'],
    ['E2P_SIP_TCP_PORT', '99999'],
    ['E2P_HTTP_HOST', 'bad host'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['DATABASE_URL', 'not a url'],
    ['E2P_SMTP_URL', 'http://mail'],
    ['E2P_SMTP_FROM', 'nobody'],
    ['E2P_LOG_LEVEL', 'verbose'],
    ['E2P_ADMIN_EMAIL', 'admin'],
    ['E2P_ADMIN_PASSWORD', 'short'],
    ['E2P_SECRET', 'too-short'],
    ['E2P_SIP_DIGEST_ALGORITHMS', 'SHA-512'],
    ['E2P_SIP_DIGEST_ALGORITHMS', 'MD5,MD5'],
    ['E2P_SIP_DIGEST_ALGORITHMS', 'MD5,'],
    ['E2P_PUBLIC_URL', 'ftp://x'],
    ['E2P_DATA_DIR', ' ./data'],
    ['E2P_SIP_TRUNK', '10.0.0.1:5060'],
    ['E2P_SIP_TRUNK', 'sip:10.0.0.1:5060;transport=sctp'],
    ['E2P_SIP_TRUNK', 'sip:10.0.0.1:70000'],
    ['E2P_SIP_EMERGENCY_ROUTE', 'sips:10.0.0.1'],
    ['E2P_SIP_TRUSTED_CARRIERS', '10.0.0.1,carrier.example'],
    ['E2P_SIP_MAX_CALL_SECONDS', '0'],
    ['E2P_SIP_MAX_CALL_SECONDS', '4h'],
    ['E2P_SIP_NODE_ID', 'node one'],
    ['E2P_SIP_UDP_THREAD', 'yes'],
    ['E2P_SIP_UDP_THREAD', '1'],
    ['E2P_REDIS_URL', 'http://redis:6379'],
    ['E2P_POLICY_COUNTERS', 'postgres'],
    ['E2P_POLICY_COUNTERS', 'redis'],
    ['E2P_POLICY_RETENTION_DAYS', '0'],
    ['E2P_POLICY_RETENTION_DAYS', '90d'],
  ])('a wrong %s (%s) stops start-up naming the variable', (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as ConfigError).message.startsWith(`${name}: `)).toBe(true);
  });

  it('reads the SIP digest algorithms in the order given (E2P_SIP_DIGEST_ALGORITHMS)', () => {
    expect(loadConfig({ E2P_SIP_DIGEST_ALGORITHMS: 'md5, sha-256' }).sip.digestAlgorithms).toEqual(['MD5', 'SHA-256']);
    expect(loadConfig({ E2P_SIP_DIGEST_ALGORITHMS: 'SHA-256' }).sip.digestAlgorithms).toEqual(['SHA-256']);
  });

  it('trusts the trunk and emergency route hosts by default (E2P_SIP_TRUSTED_CARRIERS)', () => {
    const c = loadConfig({ E2P_SIP_TRUNK: 'sip:10.0.0.1', E2P_SIP_EMERGENCY_ROUTE: 'sip:10.0.0.2:5070;transport=UDP' });
    expect(c.sip.trunk).toEqual({ host: '10.0.0.1', port: 5060, transport: 'UDP' });
    expect(c.sip.trustedCarriers).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('chooses where the call policy keeps its live counters (issue #7), E2P_POLICY_COUNTERS overriding', () => {
    expect(loadConfig({}).policy).toEqual({ counters: 'memory', redisUrl: undefined, retentionDays: 90 });
    expect(loadConfig({ DATABASE_URL: 'postgres://db/e2p' }).policy.counters).toBe('database');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/e2p', E2P_REDIS_URL: 'redis://r:6379' }).policy).toMatchObject({ counters: 'redis', redisUrl: 'redis://r:6379' });
    expect(loadConfig({ DATABASE_URL: 'postgres://db/e2p', E2P_POLICY_COUNTERS: 'memory' }).policy.counters).toBe('memory');
    expect(loadConfig({ E2P_POLICY_RETENTION_DAYS: '400' }).policy.retentionDays).toBe(400);
  });

  it('accepts the port boundaries 0 and 65535', () => {
    expect(loadConfig({ E2P_HTTP_PORT: '0' }).http.port).toBe(0);
    expect(loadConfig({ E2P_HTTP_PORT: '65535' }).http.port).toBe(65535);
  });
});
