/** The whole database schema: each module owns its tables; drizzle-kit reads this file. */
export * from '../modules/customers/schema.ts';
export * from '../modules/catalog/schema.ts';
export * from '../modules/identity/schema.ts';
export * from '../modules/audit/schema.ts';
export * from '../scheduler/schema.ts';
export * from './settings-schema.ts';
export * from '../modules/events/schema.ts';
export * from '../modules/provisioning/schema.ts';
export * from '../telephony/schema.ts';
export * from '../telephony/cdr-schema.ts';
export * from '../telephony/brute-force-schema.ts';
export * from '../modules/billing/schema.ts';
export * from '../modules/payments/schema.ts';
export * from '../modules/policy/schema.ts';
