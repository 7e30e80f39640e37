import { Type, type Static } from 'typebox';
import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { accounts, CLIENT_ROLES, STAFF_ROLES } from './schema.ts';

export type AccountRow = typeof accounts.$inferSelect;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const RoleSchema = Type.Enum([...STAFF_ROLES, ...CLIENT_ROLES]);

export const AccountViewSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    role: RoleSchema,
    clientId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    totpEnabled: Type.Boolean(),
    disabled: Type.Boolean(),
    disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
);
export type AccountView = Static<typeof AccountViewSchema>;

/** What may leave the identity module about an account: never the password hash nor the TOTP secret. */
export function toAccountView(a: AccountRow): AccountView {
  return {
    id: a.id,
    email: a.email,
    name: a.name,
    role: a.role,
    clientId: a.clientId,
    totpEnabled: a.totpEnabled,
    disabled: a.disabledAt !== null,
    disabledAt: iso(a.disabledAt),
    createdAt: a.createdAt.toISOString(),
    lastLoginAt: iso(a.lastLoginAt),
  };
}

export async function loadAccount(db: DbOrTx, id: string): Promise<AccountRow | undefined> {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
  return row;
}
