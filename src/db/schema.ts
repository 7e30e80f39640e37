/** The whole database schema: each module owns its tables; drizzle-kit reads this file. */
export * from '../modules/customers/schema.ts';
export * from '../modules/identity/schema.ts';
export * from '../modules/audit/schema.ts';
export * from '../scheduler/schema.ts';
export * from './settings-schema.ts';
export * from '../modules/events/schema.ts';
