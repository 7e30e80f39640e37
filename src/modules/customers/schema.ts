import { bigint, date, integer, jsonb, pgTable, serial, text, timestamp, uuid, uniqueIndex, index } from 'drizzle-orm/pg-core';

export interface PostalAddress {
  street: string;
  postalCode: string;
  city: string;
  country: string;
}

export const SERVICE_STATES = ['active', 'minimum_service', 'security_suspended', 'terminated'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/** The tenant root: every client-owned row carries `client_id` (see ARCHITECTURE.md "Scaling out"). */
export const clients = pgTable(
  'clients',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    legalName: text('legal_name'),
    enterpriseNumber: text('enterprise_number'),
    language: text('language', { enum: ['fr', 'nl', 'en'] }).notNull().default('fr'),
    billingEmail: text('billing_email'),
    address: jsonb('address').$type<PostalAddress>(),
    /** §5.3: deposit required, integer cents. */
    depositCents: bigint('deposit_cents', { mode: 'number' }).notNull().default(0),
    /** §8.7 / §9.2 / §13.1: set by the modules that decide it. */
    serviceState: text('service_state', { enum: SERVICE_STATES }).notNull().default('active'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('clients_enterprise_number_uq').on(t.enterpriseNumber)],
);

/** A client's site: the emergency location of the users placed there. */
export const clientSites = pgTable(
  'client_sites',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    name: text('name').notNull(),
    address: jsonb('address').$type<PostalAddress>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('client_sites_client_idx').on(t.clientId)],
);

export const CONTRACT_STATES = ['draft', 'signed', 'active', 'indefinite', 'terminating', 'terminated'] as const;

/** Contract of Services (§2.2, §11). */
export const contracts = pgTable(
  'contracts',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    state: text('state', { enum: CONTRACT_STATES }).notNull(),
    minimumMonths: integer('minimum_months').notNull().default(60),
    enabled: jsonb('enabled').$type<string[]>().notNull().default([]),
    signedAt: timestamp('signed_at', { withTimezone: true }),
    serviceStartDate: date('service_start_date', { mode: 'string' }),
    minimumTermEnd: date('minimum_term_end', { mode: 'string' }),
    endDate: date('end_date', { mode: 'string' }),
    /** Clause of the termination under way or done (11.2, 11.4, 12.1…). */
    terminationClause: text('termination_clause'),
    terminationGround: text('termination_ground'),
    terminatedBy: text('terminated_by'),
    nonRenewalAt: timestamp('non_renewal_at', { withTimezone: true }),
    terminatedAt: timestamp('terminated_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('contracts_client_idx').on(t.clientId), index('contracts_state_idx').on(t.state)],
);

export const contractLines = pgTable(
  'contract_lines',
  {
    id: serial('id').primaryKey(),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    contractId: uuid('contract_id')
      .notNull()
      .references(() => contracts.id),
    productCode: text('product_code').notNull(),
    quantity: integer('quantity').notNull(),
    /** Agreed price replacing the catalogue's (cents), null = catalogue price. */
    priceCents: bigint('price_cents', { mode: 'number' }),
  },
  (t) => [index('contract_lines_contract_idx').on(t.contractId)],
);
