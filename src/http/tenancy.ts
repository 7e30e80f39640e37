import type { AppContext } from '../context.ts';
import { recordAudit } from '../modules/audit/record-audit.ts';
import { AccessDenied, assertTenant } from '../modules/identity/tenancy.ts';
import type { HttpServer, RoutePlugin } from './server.ts';

/**
 * Tenancy at the HTTP edge (the rule itself is in modules/identity/tenancy.ts):
 * 1. any route with a `:clientId` path parameter or a `clientId` query parameter is refused
 *    (404, as if absent) before its handler when a client principal names another client;
 * 2. services check the tenant of every row they load (assertTenant / scopeClientId);
 * 3. every AccessDenied — tenant or role — is written to the audit log as `access.denied`
 *    (after the request's transaction rolled back, so the record survives) and logged (§15.3).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const tenancyPlugin: RoutePlugin = async (api: HttpServer, ctx: AppContext) => {
  api.addHook('preHandler', async (request) => {
    const principal = request.principal;
    if (!principal || principal.kind === 'staff') return;
    for (const source of [request.params, request.query]) {
      const clientId = (source as Record<string, unknown> | undefined)?.clientId;
      if (typeof clientId === 'string') assertTenant(principal, clientId, { entity: 'client', entityId: clientId });
    }
  });

  api.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof AccessDenied)) return;
    const principal = request.principal;
    request.log.warn(
      {
        security: 'access.denied',
        reason: error.reason,
        accountId: principal?.accountId,
        principalClientId: principal?.clientId,
        target: error.target,
        route: `${request.method} ${request.routeOptions.url ?? request.url}`,
      },
      'access denied',
    );
    try {
      await recordAudit(ctx.db, {
        at: ctx.clock.now(),
        actor: principal ?? 'system',
        action: 'access.denied',
        entity: error.target.entity,
        entityId: error.target.entityId,
        clientId: error.target.clientId !== null && UUID.test(error.target.clientId) ? error.target.clientId : null,
        before: null,
        after: { reason: error.reason, method: request.method, route: request.routeOptions.url ?? request.url },
        requestId: request.id,
      });
    } catch (e) {
      request.log.error({ err: e }, 'could not record an access.denied audit entry');
    }
  });
};
