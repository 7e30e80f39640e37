import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import { Histogram } from 'prom-client';
import { Type } from 'typebox';
import type { AppContext } from '../context.ts';
import { sendProblem, toProblem } from './problem.ts';

export type HttpServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** A module's routes, registered under `/api/v1`. */
export type RoutePlugin = (app: HttpServer, ctx: AppContext) => Promise<void>;

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
    clause: Type.Union([Type.String(), Type.Null()]),
    field: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    requestId: Type.String(),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

const ERROR_STATUSES = [400, 401, 403, 404, 409, 422, 429] as const;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export async function buildHttpServer(ctx: AppContext, routes: RoutePlugin[]): Promise<HttpServer> {
  const httpLog: FastifyBaseLogger = ctx.log.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: httpLog,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: 10 * 1024 * 1024,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ProblemSchema);

  // Every route documents the problem responses it can give, in one place.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1')) return;
    route.schema ??= {};
    const response = (route.schema.response ?? {}) as Record<string, unknown>;
    for (const status of ERROR_STATUSES) {
      response[status] ??= { $ref: 'Problem#', description: 'Problem details (RFC 9457)' };
    }
    route.schema.response = response;
  });

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });

  const duration = new Histogram({
    name: 'e2p_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [ctx.metrics],
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, status: problem.status }, 'request refused');
    return sendProblem(reply, problem);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0] ?? ''}`,
      instance: request.url,
      code: 'ROUTE_NOT_FOUND',
      clause: null,
      requestId: request.id,
    }),
  );

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Easy2Phone API',
        version: '1',
        description:
          'Operator and client API of the Easy2Phone platform. Errors are RFC 9457 problem+json; ' +
          'a refusal decided by a contract rule is a 422 whose `clause` names the clause.',
      },
      servers: [{ url: ctx.config.http.publicUrl }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'e2p_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  app.get(
    '/healthz',
    { schema: { hide: true, response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        hide: true,
        response: { 200: Type.Object({ status: Type.String(), database: Type.String() }), 503: Type.Object({ status: Type.String(), database: Type.String() }) },
      },
    },
    async (_request, reply) => {
      try {
        await ctx.database.ping();
        return { status: 'ready', database: ctx.database.kind };
      } catch {
        return reply.status(503).send({ status: 'unavailable', database: ctx.database.kind });
      }
    },
  );
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(ctx.metrics.contentType).send(await ctx.metrics.metrics());
  });

  await app.register(
    async (api) => {
      for (const plugin of routes) await plugin(api, ctx);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
