import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { AppError, isAppError, unauthenticated } from '../kernel/errors.ts';
import { authenticateSession, authenticateToken } from '../modules/identity/authenticate.ts';
import { hasScope, type Principal, type Scope } from '../modules/identity/principal.ts';
import type { Role } from '../modules/identity/schema.ts';
import { roleDenied } from '../modules/identity/tenancy.ts';
import type { HttpServer, RoutePlugin } from './server.ts';

export const SESSION_COOKIE = 'e2p_session';

/**
 * Route-level authorization, declared once in the route options and checked in one place
 * (the onRequest hook below), before the body is even parsed:
 *
 *   app.get('/x', { config: { auth: { roles: ['admin'] } } }, …)
 *
 * - `public`: no authentication (only the login route);
 * - `roles`: the roles allowed (default: any authenticated principal);
 * - `scope`: the API-token scope needed (default `read` for GET/HEAD, `write` otherwise);
 * - `sessionOnly`: API tokens refused (a person must be present: password, TOTP).
 */
export interface RouteAuth {
  public?: boolean;
  roles?: readonly Role[];
  scope?: Scope;
  sessionOnly?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The authenticated principal of a non-public route (the hook guarantees it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthenticated();
  return request.principal;
}

export function setSessionCookie(reply: FastifyReply, ctx: AppContext, token: string, expiresAt: Date): void {
  void reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.http.publicUrl.startsWith('https:'),
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply, ctx: AppContext): void {
  void reply.clearCookie(SESSION_COOKIE, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.http.publicUrl.startsWith('https:'),
    path: '/',
  });
}

async function authenticate(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthenticated('Authorization must be "Bearer e2p_…"', 'INVALID_TOKEN');
    return authenticateToken(ctx, { token: match[1]! });
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (cookie === undefined || cookie === '') throw unauthenticated('Log in or send an API token', 'UNAUTHENTICATED');
  try {
    return await authenticateSession(ctx, { token: cookie });
  } catch (e) {
    if (isAppError(e) && e.kind === 'unauthenticated') clearSessionCookie(reply, ctx);
    throw e;
  }
}

/** `targetClientId`: the route's `:clientId`, so that a refusal names the tenant it protected. */
export function authorize(principal: Principal, auth: RouteAuth, method: string, route: string, targetClientId?: string): void {
  if (auth.roles && !auth.roles.includes(principal.role)) {
    const target =
      targetClientId === undefined
        ? { entity: 'route', entityId: `${method} ${route}`, clientId: principal.clientId }
        : { entity: 'client', entityId: targetClientId, clientId: targetClientId };
    throw roleDenied(target, 'Your role may not use this route');
  }
  if (principal.via === 'token') {
    if (auth.sessionOnly) throw new AppError('forbidden', { code: 'SESSION_REQUIRED', message: 'This route cannot be used with an API token' });
    const needed: Scope = auth.scope ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write');
    if (!hasScope(principal, needed)) {
      throw new AppError('forbidden', { code: 'INSUFFICIENT_SCOPE', message: `This API token lacks the scope ${needed}` });
    }
  }
}

/** Installs authentication and authorization on every `/api/v1` route registered after it. */
export const authPlugin: RoutePlugin = async (api: HttpServer, ctx: AppContext) => {
  api.decorateRequest('principal', null);

  api.addHook('onRoute', (route) => {
    const auth = route.config?.auth;
    route.schema ??= {};
    if (auth?.public) (route.schema as { security?: unknown[] }).security = [];
  });

  api.addHook('onRequest', async (request, reply) => {
    const auth = request.routeOptions.config.auth ?? {};
    if (auth.public) return;
    const principal = await authenticate(ctx, request, reply);
    request.principal = principal;
    const clientId = (request.params as Record<string, unknown> | undefined)?.clientId;
    authorize(principal, auth, request.method, request.routeOptions.url ?? request.url, typeof clientId === 'string' ? clientId : undefined);
  });

  // Throttling errors carry their wait; RFC 9110 Retry-After, in seconds.
  api.addHook('onError', async (_request, reply, error) => {
    const wait = isAppError(error) ? error.details?.retryAfterSeconds : undefined;
    if (typeof wait === 'number') void reply.header('retry-after', String(wait));
  });
};
