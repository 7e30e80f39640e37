import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('config', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({}, '/srv/e2p');
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080' });
    expect(c.sip).toEqual({ host: '127.0.0.1', udpPort: 5060, tcpPort: 5060, domain: '127.0.0.1', digestAlgorithms: ['SHA-256', 'MD5'] });
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
    expect(c.sip).toEqual({ host: '10.0.0.1', udpPort: 5070, tcpPort: 5071, domain: 'sip.easy2phone.be', digestAlgorithms: ['MD5'] });
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

  it('accepts the port boundaries 0 and 65535', () => {
    expect(loadConfig({ E2P_HTTP_PORT: '0' }).http.port).toBe(0);
    expect(loadConfig({ E2P_HTTP_PORT: '65535' }).http.port).toBe(65535);
  });
});
