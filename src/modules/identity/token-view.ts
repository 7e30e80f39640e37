import { Type, type Static } from 'typebox';
import type { apiTokens } from './schema.ts';
import { TOKEN_SCOPES } from './principal.ts';

export type TokenRow = typeof apiTokens.$inferSelect;

export const ScopeSchema = Type.Enum([...TOKEN_SCOPES]);

export const TokenViewSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  accountId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  /** The first characters of the token, for recognising it; never enough to use it. */
  prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type TokenView = Static<typeof TokenViewSchema>;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const toTokenView = (t: TokenRow): TokenView => ({
  id: t.id,
  accountId: t.accountId,
  name: t.name,
  prefix: t.prefix,
  scopes: t.scopes,
  createdAt: t.createdAt.toISOString(),
  expiresAt: iso(t.expiresAt),
  revokedAt: iso(t.revokedAt),
  lastUsedAt: iso(t.lastUsedAt),
});
