import { pgTable, text, timestamp, uuid, uniqueIndex } from 'drizzle-orm/pg-core';

/** The tenant root: every client-owned row carries `client_id` (see ARCHITECTURE.md "Scaling out"). */
export const clients = pgTable(
  'clients',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    enterpriseNumber: text('enterprise_number'),
    language: text('language', { enum: ['fr', 'nl', 'en'] }).notNull().default('fr'),
    billingEmail: text('billing_email'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('clients_enterprise_number_uq').on(t.enterpriseNumber)],
);
