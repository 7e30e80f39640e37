import { Type, type Static } from 'typebox';
import type { phoneNumbers, provisionedUsers } from './schema.ts';
import { pendingReleaseDate } from './number-lifecycle.ts';

type UserRow = typeof provisionedUsers.$inferSelect;
type NumberRow = typeof phoneNumbers.$inferSelect;

export const UserViewSchema = Type.Object({
  id: Type.String(),
  clientId: Type.String(),
  extension: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  site: Type.Union([Type.String(), Type.Null()]),
  sipUsername: Type.String(),
  createdAt: Type.String(),
  deletedAt: Type.Union([Type.String(), Type.Null()]),
});
export type UserView = Static<typeof UserViewSchema>;

export const toUserView = (r: UserRow): UserView => ({
  id: r.id,
  clientId: r.clientId,
  extension: r.extension,
  displayName: r.displayName,
  site: r.site,
  sipUsername: r.sipUsername,
  createdAt: r.createdAt.toISOString(),
  deletedAt: r.deletedAt ? r.deletedAt.toISOString() : null,
});

/** §4.4: the generated password, shown once (create, reset) and never stored. */
export const SipCredentialsSchema = Type.Object({
  username: Type.String(),
  realm: Type.String(),
  password: Type.String({ description: 'Shown once; only digest hashes are kept' }),
});
export type SipCredentials = Static<typeof SipCredentialsSchema>;

export const UserWithCredentialsSchema = Type.Object({ user: UserViewSchema, credentials: SipCredentialsSchema });
export type UserWithCredentials = Static<typeof UserWithCredentialsSchema>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const NumberViewSchema = Type.Object({
  number: Type.String(),
  type: Type.Union([Type.Literal('national'), Type.Literal('international')]),
  state: Type.Union([Type.Literal('available'), Type.Literal('reserved'), Type.Literal('assigned'), Type.Literal('quarantine')]),
  clientId: Nullable(Type.String()),
  userId: Nullable(Type.String()),
  isMain: Type.Boolean(),
  reservedAt: Nullable(Type.String()),
  reservationExpiresOn: Nullable(Type.String()),
  assignedAt: Nullable(Type.String()),
  commitmentEnd: Nullable(Type.String()),
  releasePending: Type.Boolean(),
  /** §8.6: the date of the job that releases a pending number. */
  releaseEffectiveOn: Nullable(Type.String()),
  quarantineEndsOn: Nullable(Type.String()),
});
export type NumberView = Static<typeof NumberViewSchema>;

export const toNumberView = (r: NumberRow): NumberView => {
  const pending = r.state === 'assigned' && r.releaseRequestedAt !== null;
  return {
    number: r.number,
    type: r.type,
    state: r.state,
    clientId: r.clientId,
    userId: r.userId,
    isMain: r.isMain,
    reservedAt: r.reservedAt ? r.reservedAt.toISOString() : null,
    reservationExpiresOn: r.reservationExpiresOn,
    assignedAt: r.assignedAt ? r.assignedAt.toISOString() : null,
    commitmentEnd: r.commitmentEnd,
    releasePending: pending,
    releaseEffectiveOn: pending && r.commitmentEnd ? pendingReleaseDate(r.commitmentEnd) : null,
    quarantineEndsOn: r.quarantineEndsOn,
  };
};
