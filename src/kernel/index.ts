/** The shared kernel: pure vocabulary used by every module (no I/O). */
export * from './errors.ts';
export * from './clock.ts';
export * from './money.ts';
export * from './time.ts';
export * from './e164.ts';
export * from './enterprise-number.ts';
export * as structuredCommunication from './structured-communication.ts';
export * from './ids.ts';
