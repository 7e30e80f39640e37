import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { CLIENT_CREATE_ROLES, CLIENT_UPDATE_ROLES } from './client-rules.ts';
import { ClientViewSchema, LanguageSchema } from './client-view.ts';
import { createClient } from './create-client.ts';
import { getClient } from './get-client.ts';
import { listClients } from './list-clients.ts';
import { updateClient } from './update-client.ts';

const Uuid = Type.String({ format: 'uuid' });
const EnterpriseNumber = Type.String({ minLength: 9, maxLength: 20, description: 'Belgian enterprise number, e.g. BE0455.218.921' });
const Email = Type.String({ format: 'email', maxLength: 320 });

/** The minimal clients family (tenant root); a later issue completes it. */
export const customerRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.post(
    '/clients',
    {
      config: { auth: { roles: CLIENT_CREATE_ROLES } },
      schema: {
        tags: ['clients'],
        summary: 'Create a client (staff admin)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            enterpriseNumber: Type.Optional(Type.Union([EnterpriseNumber, Type.Null()])),
            language: Type.Optional(LanguageSchema),
            billingEmail: Type.Optional(Type.Union([Email, Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 201: ClientViewSchema },
      },
    },
    async (request, reply) => {
      const client = await createClient(ctx, { principal: principalOf(request), ...request.body, requestId: request.id });
      return reply.status(201).send(client);
    },
  );

  app.get(
    '/clients',
    {
      schema: {
        tags: ['clients'],
        summary: 'Clients: staff see all, a client principal sees its own',
        querystring: Type.Object(
          { after: Type.Optional(Uuid), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(ClientViewSchema), nextCursor: Type.Union([Uuid, Type.Null()]) }) },
      },
    },
    async (request) => listClients(ctx.db, { principal: principalOf(request), ...request.query }),
  );

  app.get(
    '/clients/:clientId',
    {
      schema: { tags: ['clients'], summary: 'One client', params: Type.Object({ clientId: Uuid }), response: { 200: ClientViewSchema } },
    },
    async (request) => getClient(ctx.db, { principal: principalOf(request), clientId: request.params.clientId }),
  );

  app.patch(
    '/clients/:clientId',
    {
      config: { auth: { roles: CLIENT_UPDATE_ROLES } },
      schema: {
        tags: ['clients'],
        summary: 'Change a client (staff admin, billing, support)',
        params: Type.Object({ clientId: Uuid }),
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            enterpriseNumber: Type.Optional(Type.Union([EnterpriseNumber, Type.Null()])),
            language: Type.Optional(LanguageSchema),
            billingEmail: Type.Optional(Type.Union([Email, Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 200: ClientViewSchema },
      },
    },
    async (request) =>
      updateClient(ctx, { principal: principalOf(request), clientId: request.params.clientId, ...request.body, requestId: request.id }),
  );
};
