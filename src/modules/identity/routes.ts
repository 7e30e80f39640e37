import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { clearSessionCookie, principalOf, setSessionCookie } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { notFound } from '../../kernel/errors.ts';
import { AccountViewSchema, loadAccount, RoleSchema, toAccountView } from './account-view.ts';
import { changePassword } from './change-password.ts';
import { createAccount } from './create-account.ts';
import { createToken } from './create-token.ts';
import { getAccount } from './get-account.ts';
import { listAccounts } from './list-accounts.ts';
import { listTokens } from './list-tokens.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import type { Principal } from './principal.ts';
import { revokeToken } from './revoke-token.ts';
import { STAFF_ROLES } from './schema.ts';
import { ScopeSchema, TokenViewSchema } from './token-view.ts';
import { enableTotp } from './totp-enable.ts';
import { setupTotp } from './totp-setup.ts';
import { updateAccount } from './update-account.ts';

const Uuid = Type.String({ format: 'uuid' });
const DateTime = Type.String({ format: 'date-time' });

export const PrincipalSchema = Type.Object({
  kind: Type.Union([Type.Literal('staff'), Type.Literal('client')]),
  accountId: Uuid,
  email: Type.String(),
  role: RoleSchema,
  clientId: Type.Union([Uuid, Type.Null()]),
  via: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  scopes: Type.Array(ScopeSchema),
});

const MeSchema = Type.Object({ principal: PrincipalSchema, account: AccountViewSchema });

const principalView = (p: Principal) => ({
  kind: p.kind,
  accountId: p.accountId,
  email: p.email,
  role: p.role,
  clientId: p.clientId,
  via: p.via,
  scopes: [...p.scopes],
});

/** Login, logout, me, TOTP, API tokens and accounts. */
export const identityRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.post(
    '/auth/login',
    {
      config: { auth: { public: true } },
      schema: {
        tags: ['auth'],
        summary: 'Log in with e-mail and password (+ TOTP code for staff who enabled it); sets the e2p_session cookie',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 320 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            totp: Type.Optional(Type.String({ maxLength: 16 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ principal: PrincipalSchema, account: AccountViewSchema, expiresAt: DateTime }) },
      },
    },
    async (request, reply) => {
      const result = await login(ctx, {
        email: request.body.email,
        password: request.body.password,
        totp: request.body.totp,
        ip: request.ip,
        userAgent: request.headers['user-agent'],
        requestId: request.id,
      });
      setSessionCookie(reply, ctx, result.sessionToken, result.expiresAt);
      return { principal: principalView(result.principal), account: result.account, expiresAt: result.expiresAt.toISOString() };
    },
  );

  app.post(
    '/auth/logout',
    { schema: { tags: ['auth'], summary: 'End the current session', response: { 204: Type.Null() } } },
    async (request, reply) => {
      await logout(ctx, { principal: principalOf(request), requestId: request.id });
      clearSessionCookie(reply, ctx);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    { schema: { tags: ['auth'], summary: 'Who am I', response: { 200: MeSchema } } },
    async (request) => {
      const principal = principalOf(request);
      const row = await loadAccount(ctx.db, principal.accountId);
      if (!row) throw notFound('account', principal.accountId);
      return { principal: principalView(principal), account: toAccountView(row) };
    },
  );

  app.post(
    '/auth/totp/setup',
    {
      config: { auth: { roles: STAFF_ROLES, sessionOnly: true } },
      schema: {
        tags: ['auth'],
        summary: 'Start TOTP enrolment (staff): returns the secret and its otpauth:// URI, once',
        response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String() }) },
      },
    },
    async (request) => setupTotp(ctx, { principal: principalOf(request), requestId: request.id }),
  );

  app.post(
    '/auth/totp/enable',
    {
      config: { auth: { roles: STAFF_ROLES, sessionOnly: true } },
      schema: {
        tags: ['auth'],
        summary: 'Finish TOTP enrolment with a code from the app; login then requires a code',
        body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
        response: { 200: AccountViewSchema },
      },
    },
    async (request) => enableTotp(ctx, { principal: principalOf(request), code: request.body.code, requestId: request.id }),
  );

  // ---- API tokens -----------------------------------------------------------------------
  app.post(
    '/tokens',
    {
      config: { auth: { scope: 'admin' } },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token for yourself; the token is shown in this answer only',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 3 }),
            expiresAt: Type.Optional(DateTime),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ token: Type.String(), tokenInfo: TokenViewSchema }) },
      },
    },
    async (request, reply) => {
      const { token, view } = await createToken(ctx, {
        principal: principalOf(request),
        name: request.body.name,
        scopes: request.body.scopes,
        expiresAt: request.body.expiresAt === undefined ? undefined : new Date(request.body.expiresAt),
        requestId: request.id,
      });
      return reply.status(201).send({ token, tokenInfo: view });
    },
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Your API tokens (a staff admin sees everyone’s, or one account’s with accountId)',
        querystring: Type.Object({ accountId: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(TokenViewSchema) }) },
      },
    },
    async (request) => ({ items: await listTokens(ctx.db, { principal: principalOf(request), accountId: request.query.accountId }) }),
  );

  app.delete(
    '/tokens/:id',
    {
      config: { auth: { scope: 'admin' } },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token (yours; a staff admin: anyone’s)',
        params: Type.Object({ id: Uuid }),
        response: { 200: TokenViewSchema },
      },
    },
    async (request) => revokeToken(ctx, { principal: principalOf(request), tokenId: request.params.id, requestId: request.id }),
  );

  // ---- accounts -------------------------------------------------------------------------
  app.post(
    '/accounts',
    {
      config: { auth: { roles: ['admin', 'support', 'client_admin'], scope: 'admin' } },
      schema: {
        tags: ['accounts'],
        summary: 'Create a staff account (admin) or invite a client account (admin, support, client_admin of that client)',
        body: Type.Object(
          {
            email: Type.String({ format: 'email', maxLength: 320 }),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            role: RoleSchema,
            clientId: Type.Optional(Type.Union([Uuid, Type.Null()])),
            password: Type.Optional(Type.String({ maxLength: 256 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            account: AccountViewSchema,
            initialPassword: Type.Optional(Type.String({ description: 'Only when no password was given: shown once' })),
          }),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await createAccount(ctx, {
        principal: principalOf(request),
        email: b.email,
        name: b.name,
        role: b.role,
        clientId: b.clientId,
        password: b.password,
        requestId: request.id,
      });
      return reply.status(201).send(result);
    },
  );

  app.get(
    '/accounts',
    {
      config: { auth: { roles: [...STAFF_ROLES, 'client_admin'] } },
      schema: {
        tags: ['accounts'],
        summary: 'Accounts: staff see all (filter by clientId); a client_admin sees its client’s',
        querystring: Type.Object(
          {
            clientId: Type.Optional(Uuid),
            after: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AccountViewSchema), nextCursor: Type.Union([Uuid, Type.Null()]) }) },
      },
    },
    async (request) => listAccounts(ctx.db, { principal: principalOf(request), ...request.query }),
  );

  app.get(
    '/accounts/:id',
    {
      schema: { tags: ['accounts'], summary: 'One account', params: Type.Object({ id: Uuid }), response: { 200: AccountViewSchema } },
    },
    async (request) => getAccount(ctx.db, { principal: principalOf(request), accountId: request.params.id }),
  );

  app.patch(
    '/accounts/:id',
    {
      config: { auth: { scope: 'admin' } },
      schema: {
        tags: ['accounts'],
        summary: 'Change name (anyone, for themselves), role or disabled (account managers)',
        params: Type.Object({ id: Uuid }),
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ maxLength: 200 })),
            role: Type.Optional(RoleSchema),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: AccountViewSchema },
      },
    },
    async (request) =>
      updateAccount(ctx, { principal: principalOf(request), accountId: request.params.id, ...request.body, requestId: request.id }),
  );

  app.post(
    '/accounts/:id/password',
    {
      config: { auth: { sessionOnly: true } },
      schema: {
        tags: ['accounts'],
        summary: 'Change your own password (with the current one) or, as staff admin, reset another account’s',
        params: Type.Object({ id: Uuid }),
        body: Type.Object(
          {
            currentPassword: Type.Optional(Type.String({ maxLength: 1024 })),
            newPassword: Type.String({ maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await changePassword(ctx, {
        principal: principalOf(request),
        accountId: request.params.id,
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
        requestId: request.id,
      });
      return reply.status(204).send(null);
    },
  );
};
