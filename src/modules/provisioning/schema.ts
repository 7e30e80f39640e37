import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * Users / extensions of a client, with their SIP credentials (§4.4/§6.2: only the digest
 * HA1 hashes are kept, never the password). Rows are soft-deleted (`deleted_at`) so that
 * the number of users at any instant can be computed (§8.5 quarter floor, §8.4 quantities).
 */
export const provisionedUsers = pgTable(
  'provisioned_users',
  {
    id: uuid('id').primaryKey(),
    clientId: uuid('client_id').notNull(),
    extension: text('extension').notNull(),
    displayName: text('display_name'),
    /** Emergency location (site address) of the user, optional. */
    site: text('site'),
    sipUsername: text('sip_username').notNull(),
    /** The digest realm the HA1s were computed with (config.sip.domain at creation/reset). */
    sipRealm: text('sip_realm').notNull(),
    ha1Md5: text('ha1_md5').notNull(),
    ha1Sha256: text('ha1_sha256').notNull(),
    credentialsSetAt: timestamp('credentials_set_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('provisioned_users_extension_uq').on(t.clientId, t.extension).where(sql`deleted_at is null`),
    uniqueIndex('provisioned_users_sip_username_uq').on(t.sipUsername).where(sql`deleted_at is null`),
    index('provisioned_users_client_idx').on(t.clientId, t.createdAt),
  ],
);

export const NUMBER_TYPES = ['national', 'international'] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];
export const NUMBER_STATES = ['available', 'reserved', 'assigned', 'quarantine'] as const;
export type NumberState = (typeof NUMBER_STATES)[number];

/**
 * The number inventory (§3): one row per E.164 number. `client_id` is set while the number
 * is reserved for, assigned to, or in quarantine after leaving a client.
 */
export const phoneNumbers = pgTable(
  'phone_numbers',
  {
    number: text('number').primaryKey(),
    type: text('type', { enum: NUMBER_TYPES }).notNull(),
    state: text('state', { enum: NUMBER_STATES }).notNull(),
    clientId: uuid('client_id'),
    userId: uuid('user_id'),
    /** The client's designated main number (RULES.md "Main number and caller ID"). */
    isMain: boolean('is_main').notNull().default(false),
    reservedAt: timestamp('reserved_at', { withTimezone: true }),
    /** §3.6: first local date on which the reservation no longer holds (the job at 00:00 frees it). */
    reservationExpiresOn: text('reservation_expires_on'),
    assignedAt: timestamp('assigned_at', { withTimezone: true }),
    /** §8.6: last day of an international number's 12-month commitment. */
    commitmentEnd: text('commitment_end'),
    /** §8.6: a release asked during the commitment; the daily job releases it after commitmentEnd. */
    releaseRequestedAt: timestamp('release_requested_at', { withTimezone: true }),
    releasedAt: timestamp('released_at', { withTimezone: true }),
    /** First local date on which the number is available again (quarantine of 90 days). */
    quarantineEndsOn: text('quarantine_ends_on'),
    importedAt: timestamp('imported_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('phone_numbers_client_idx').on(t.clientId, t.state),
    index('phone_numbers_state_idx').on(t.state),
    // §17.1 per call (the call policy's database mode, issue #4): a user's earliest assigned
    // number and a client's main one, each one index probe whatever the client's number count.
    index('phone_numbers_user_assigned_idx').on(t.userId, t.assignedAt, t.number).where(sql`${t.state} = 'assigned'`),
    index('phone_numbers_main_idx').on(t.clientId, t.isMain.desc().nullsFirst(), t.assignedAt, t.number).where(sql`${t.state} = 'assigned'`),
  ],
);
