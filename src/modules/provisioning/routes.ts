import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { INVENTORY_ROLES, PROVISION_ROLES, STAFF_NUMBER_ROLES } from './access.ts';
import { assignNumber } from './assign-number.ts';
import { cancelReservation } from './cancel-reservation.ts';
import { createUsers } from './create-users.ts';
import { deleteUsers } from './delete-users.ts';
import { extensionSequence } from './extension.ts';
import { importNumbers } from './import-numbers.ts';
import { listClientNumbers, listInventory } from './list-numbers.ts';
import { getUser, listUsers } from './list-users.ts';
import { releaseNumber } from './release-number.ts';
import { reserveNumber } from './reserve-number.ts';
import { resetCredentials } from './reset-credentials.ts';
import { updateUser } from './update-user.ts';
import { NumberViewSchema, SipCredentialsSchema, UserViewSchema, UserWithCredentialsSchema } from './views.ts';

const Uuid = Type.String({ format: 'uuid' });
const Extension = Type.String({ pattern: '^[0-9]{2,6}$', description: '2 to 6 digits' });
const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{7,14}$', description: 'E.164, e.g. +3243210001' });
const NumberType = Type.Union([Type.Literal('national'), Type.Literal('international')]);
const Text = Type.Union([Type.String({ maxLength: 200 }), Type.Null()]);
const ClientParams = Type.Object({ clientId: Uuid });
const UserParams = Type.Object({ clientId: Uuid, userId: Uuid });
const NumberBody = Type.Object({ number: E164 }, { additionalProperties: false });

/** Users/extensions, SIP credentials and numbers (§2.2, §3, §3.6, §4.4, §8.5, §8.6, §13.1). */
export const provisioningRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.get(
    '/clients/:clientId/users',
    { schema: { tags: ['provisioning'], summary: "The client's users", params: ClientParams, response: { 200: Type.Object({ items: Type.Array(UserViewSchema) }) } } },
    async (request) => ({ items: await listUsers(ctx.db, { actor: principalOf(request), clientId: request.params.clientId }) }),
  );

  app.post(
    '/clients/:clientId/users',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Create a user with its SIP credentials (password shown once; §2.2 signed contract)',
        params: ClientParams,
        body: Type.Object({ extension: Extension, displayName: Type.Optional(Text), site: Type.Optional(Text) }, { additionalProperties: false }),
        response: { 201: UserWithCredentialsSchema },
      },
    },
    async (request, reply) => {
      const [created] = await createUsers(ctx, {
        actor: principalOf(request),
        clientId: request.params.clientId,
        users: [request.body],
        requestId: request.id,
      });
      return reply.status(201).send(created!);
    },
  );

  app.post(
    '/clients/:clientId/users/bulk',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Create `count` users with consecutive extensions from `firstExtension` (passwords shown once)',
        params: ClientParams,
        body: Type.Object(
          { count: Type.Integer({ minimum: 1, maximum: 1000 }), firstExtension: Extension, site: Type.Optional(Text) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ items: Type.Array(UserWithCredentialsSchema) }) },
      },
    },
    async (request, reply) => {
      const users = extensionSequence(request.body.firstExtension, request.body.count).map((extension) => ({ extension, site: request.body.site }));
      const items = await createUsers(ctx, { actor: principalOf(request), clientId: request.params.clientId, users, requestId: request.id });
      return reply.status(201).send({ items });
    },
  );

  app.get(
    '/clients/:clientId/users/:userId',
    { schema: { tags: ['provisioning'], summary: 'One user', params: UserParams, response: { 200: UserViewSchema } } },
    async (request) => getUser(ctx.db, { actor: principalOf(request), ...request.params }),
  );

  app.patch(
    '/clients/:clientId/users/:userId',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Rename a user or change its site (emergency location)',
        params: UserParams,
        body: Type.Object({ displayName: Type.Optional(Text), site: Type.Optional(Text) }, { additionalProperties: false }),
        response: { 200: UserViewSchema },
      },
    },
    async (request) => updateUser(ctx, { actor: principalOf(request), ...request.params, ...request.body, requestId: request.id }),
  );

  app.delete(
    '/clients/:clientId/users/:userId',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Delete a user (§8.5 quarterly floor; staff may override with a reason)',
        params: UserParams,
        querystring: Type.Object({ overrideReason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false }),
        response: { 200: UserViewSchema },
      },
    },
    async (request) => {
      const [deleted] = await deleteUsers(ctx, {
        actor: principalOf(request),
        clientId: request.params.clientId,
        userIds: [request.params.userId],
        overrideReason: request.query.overrideReason,
        requestId: request.id,
      });
      return deleted!;
    },
  );

  app.post(
    '/clients/:clientId/users/:userId/credentials/reset',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Rotate the SIP password (§4.4/§6.2); the new one is shown once',
        params: UserParams,
        response: { 200: SipCredentialsSchema },
      },
    },
    async (request) => resetCredentials(ctx, { actor: principalOf(request), ...request.params, requestId: request.id }),
  );

  app.get(
    '/clients/:clientId/numbers',
    {
      schema: {
        tags: ['provisioning'],
        summary: 'Numbers reserved for or assigned to the client',
        params: ClientParams,
        response: { 200: Type.Object({ items: Type.Array(NumberViewSchema) }) },
      },
    },
    async (request) => ({ items: await listClientNumbers(ctx.db, { actor: principalOf(request), clientId: request.params.clientId }) }),
  );

  app.post(
    '/clients/:clientId/numbers/reserve',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: { tags: ['provisioning'], summary: 'Reserve a number for 30 days (§3.6)', params: ClientParams, body: NumberBody, response: { 200: NumberViewSchema } },
    },
    async (request) => reserveNumber(ctx, { actor: principalOf(request), clientId: request.params.clientId, number: request.body.number, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/numbers/assign',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Assign a number to a user of the client or as its main number',
        params: ClientParams,
        body: Type.Object(
          { number: E164, userId: Type.Optional(Type.Union([Uuid, Type.Null()])), main: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: NumberViewSchema },
      },
    },
    async (request) => assignNumber(ctx, { actor: principalOf(request), clientId: request.params.clientId, ...request.body, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/numbers/release',
    {
      config: { auth: { roles: PROVISION_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Release a number: quarantine 90 days, or pending until the end of an international commitment (§8.6)',
        params: ClientParams,
        body: NumberBody,
        response: { 200: NumberViewSchema },
      },
    },
    async (request) => releaseNumber(ctx, { actor: principalOf(request), clientId: request.params.clientId, number: request.body.number, requestId: request.id }),
  );

  app.post(
    '/numbers/import',
    {
      config: { auth: { roles: INVENTORY_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'Import numbers into the inventory (staff)',
        body: Type.Object(
          {
            ranges: Type.Optional(Type.Array(Type.Object({ from: E164, to: E164, type: NumberType }, { additionalProperties: false }), { maxItems: 100 })),
            numbers: Type.Optional(Type.Array(Type.Object({ number: E164, type: NumberType }, { additionalProperties: false }), { maxItems: 10_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ imported: Type.Integer(), skipped: Type.Integer() }) },
      },
    },
    async (request) => importNumbers(ctx, { actor: principalOf(request), ...request.body, requestId: request.id }),
  );

  app.get(
    '/numbers',
    {
      config: { auth: { roles: STAFF_NUMBER_ROLES } },
      schema: {
        tags: ['provisioning'],
        summary: 'The number inventory (staff)',
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Union([Type.Literal('available'), Type.Literal('reserved'), Type.Literal('assigned'), Type.Literal('quarantine')])),
            after: Type.Optional(E164),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(NumberViewSchema) }) },
      },
    },
    async (request) => ({ items: await listInventory(ctx.db, { actor: principalOf(request), ...request.query }) }),
  );

  app.post(
    '/numbers/cancel-reservation',
    {
      config: { auth: { roles: STAFF_NUMBER_ROLES } },
      schema: { tags: ['provisioning'], summary: 'Cancel a reservation (staff, §3.6)', body: NumberBody, response: { 200: NumberViewSchema } },
    },
    async (request) => cancelReservation(ctx, { actor: principalOf(request), number: request.body.number, requestId: request.id }),
  );
};
