import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { validationError } from '../../kernel/errors.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { CLIENT_CREATE_ROLES, CLIENT_UPDATE_ROLES } from './client-rules.ts';
import { ClientViewSchema, LanguageSchema } from './client-view.ts';
import { completeInstallation } from './complete-installation.ts';
import { CONTRACT_WRITE_ROLES, ENABLE_OPTIONS, INSTALLATION_ROLES, NOTICE_ROLES } from './contract-rules.ts';
import { ContractViewSchema } from './contract-view.ts';
import { createContract } from './create-contract.ts';
import { createSite } from './create-site.ts';
import { getContract } from './get-contract.ts';
import { listSites } from './list-sites.ts';
import { noticeNonRenewal } from './notice-non-renewal.ts';
import { signContract } from './sign-contract.ts';
import { SiteViewSchema } from './site-view.ts';
import { TERMINATION_GROUNDS } from './term-dates.ts';
import { terminateContract } from './terminate-contract.ts';
import { createClient } from './create-client.ts';
import { getClient } from './get-client.ts';
import { listClients } from './list-clients.ts';
import { updateClient } from './update-client.ts';

const Uuid = Type.String({ format: 'uuid' });
const EnterpriseNumber = Type.String({ minLength: 9, maxLength: 20, description: 'Belgian enterprise number, e.g. BE0455.218.921' });
const Email = Type.String({ format: 'email', maxLength: 320 });
const LocalDateSchema = Type.String({ format: 'date', description: 'YYYY-MM-DD (Europe/Brussels)' });
const Address = Type.Object(
  {
    street: Type.String({ minLength: 1, maxLength: 300 }),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    city: Type.String({ minLength: 1, maxLength: 200 }),
    country: Type.Optional(Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2, default BE' })),
  },
  { additionalProperties: false },
);
const ClientFields = {
  enterpriseNumber: Type.Optional(Type.Union([EnterpriseNumber, Type.Null()])),
  language: Type.Optional(LanguageSchema),
  billingEmail: Type.Optional(Type.Union([Email, Type.Null()])),
  legalName: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 300 }), Type.Null()])),
  address: Type.Optional(Type.Union([Address, Type.Null()])),
  depositCents: Type.Optional(Type.Integer({ minimum: 0, description: '§5.3 deposit, euro cents' })),
};
const ClientParams = Type.Object({ clientId: Uuid });

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
            ...ClientFields,
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
          {
            after: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'part of the name, or of the enterprise number' })),
          },
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
            ...ClientFields,
          },
          { additionalProperties: false },
        ),
        response: { 200: ClientViewSchema },
      },
    },
    async (request) =>
      updateClient(ctx, { principal: principalOf(request), clientId: request.params.clientId, ...request.body, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/sites',
    {
      config: { auth: { roles: [...CLIENT_UPDATE_ROLES, 'client_admin'] } },
      schema: {
        tags: ['clients'],
        summary: "Add a site (an address; the emergency location of the users placed there)",
        params: ClientParams,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), address: Address }, { additionalProperties: false }),
        response: { 201: SiteViewSchema },
      },
    },
    async (request, reply) => {
      const site = await createSite(ctx, { principal: principalOf(request), clientId: request.params.clientId, ...request.body, requestId: request.id });
      return reply.status(201).send(site);
    },
  );

  app.get(
    '/clients/:clientId/sites',
    { schema: { tags: ['clients'], summary: "The client's sites", params: ClientParams, response: { 200: Type.Object({ items: Type.Array(SiteViewSchema) }) } } },
    async (request) => ({ items: await listSites(ctx.db, { principal: principalOf(request), clientId: request.params.clientId }) }),
  );

  app.post(
    '/clients/:clientId/contracts',
    {
      config: { auth: { roles: CONTRACT_WRITE_ROLES } },
      schema: {
        tags: ['contracts'],
        summary: 'Draft a Contract of Services (staff admin, billing)',
        params: ClientParams,
        body: Type.Object(
          {
            minimumMonths: Type.Optional(Type.Integer({ minimum: 0, maximum: 240, description: '§11.1, default 60' })),
            lines: Type.Array(
              Type.Object(
                {
                  product: Type.String({ minLength: 1 }),
                  quantity: Type.Integer({ minimum: 0 }),
                  priceCents: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
                },
                { additionalProperties: false },
              ),
            ),
            enable: Type.Optional(Type.Array(Type.Enum([...ENABLE_OPTIONS]))),
          },
          { additionalProperties: false },
        ),
        response: { 201: ContractViewSchema },
      },
    },
    async (request, reply) => {
      const c = await createContract(ctx, { actor: principalOf(request), clientId: request.params.clientId, ...request.body, requestId: request.id });
      return reply.status(201).send(c);
    },
  );

  app.post(
    '/clients/:clientId/contracts/:contractId/sign',
    {
      config: { auth: { roles: CONTRACT_WRITE_ROLES } },
      schema: {
        tags: ['contracts'],
        summary: 'Record the signed contract (§2.2)',
        params: Type.Object({ clientId: Uuid, contractId: Uuid }),
        response: { 200: ContractViewSchema },
      },
    },
    async (request) => signContract(ctx, { actor: principalOf(request), ...request.params, requestId: request.id }),
  );

  app.get(
    '/clients/:clientId/contract',
    { schema: { tags: ['contracts'], summary: "The client's current contract", params: ClientParams, response: { 200: ContractViewSchema } } },
    async (request) => getContract(ctx.db, { principal: principalOf(request), clientId: request.params.clientId }),
  );

  app.post(
    '/clients/:clientId/contract/installation',
    {
      config: { auth: { roles: INSTALLATION_ROLES } },
      schema: {
        tags: ['contracts'],
        summary: 'Record the installation complete: the service starts today (§8.1, §11.1)',
        params: ClientParams,
        response: { 200: ContractViewSchema },
      },
    },
    async (request) => completeInstallation(ctx, { actor: principalOf(request), clientId: request.params.clientId, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/contract/non-renewal',
    {
      config: { auth: { roles: NOTICE_ROLES } },
      schema: {
        tags: ['contracts'],
        summary: 'Record a non-renewal notice (§11.4: at least 3 months before the term ends); optional body { by: client | operator }',
        params: ClientParams,
        response: { 200: ContractViewSchema },
      },
    },
    async (request) => {
      // The body is optional (no body: a notice from the client); `{ "by": "client" | "operator" }` otherwise.
      const by = (request.body as { by?: unknown } | null | undefined)?.by;
      if (by !== undefined && by !== 'client' && by !== 'operator') throw validationError('/by', 'must be client or operator');
      return noticeNonRenewal(ctx, { actor: principalOf(request), clientId: request.params.clientId, by, requestId: request.id });
    },
  );

  app.post(
    '/clients/:clientId/contract/termination',
    {
      config: { auth: { roles: CONTRACT_WRITE_ROLES } },
      schema: {
        tags: ['contracts'],
        summary: 'Terminate the contract (§11.2, §11.4, §12, §15.2, §18)',
        params: ClientParams,
        body: Type.Object(
          { by: Type.Enum(['client', 'operator']), ground: Type.Enum([...TERMINATION_GROUNDS]), effective: Type.Optional(LocalDateSchema) },
          { additionalProperties: false },
        ),
        response: { 200: ContractViewSchema },
      },
    },
    async (request) => terminateContract(ctx, { actor: principalOf(request), clientId: request.params.clientId, ...request.body, requestId: request.id }),
  );
};
