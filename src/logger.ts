import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

/** Paths never written to the logs (secrets). */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.totpSecret',
  '*.secret',
];

export function createLogger(level: Config['logLevel'], destination?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'easy2phone' } };
  return destination ? pino(options, destination) : pino(options);
}
