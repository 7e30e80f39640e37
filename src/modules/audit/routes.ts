import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { STAFF_ROLES } from '../identity/schema.ts';
import { AUDIT_PAGE_MAX, listAudit } from './list-audit.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actorKind: Type.Union([Type.Literal('staff'), Type.Literal('client'), Type.Literal('token'), Type.Literal('system')]),
  actorId: Nullable(Type.String()),
  actorLabel: Type.String(),
  clientId: Nullable(Type.String()),
  action: Type.String(),
  entity: Type.String(),
  entityId: Nullable(Type.String()),
  before: Type.Unknown(),
  after: Type.Unknown(),
  clause: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
});

export const auditRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.get(
    '/audit',
    {
      config: { auth: { roles: STAFF_ROLES } },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (staff only); page with `before` = the previous nextCursor',
        querystring: Type.Object(
          {
            entity: Type.Optional(Type.String({ maxLength: 100 })),
            entityId: Type.Optional(Type.String({ maxLength: 200 })),
            clientId: Type.Optional(Type.String({ format: 'uuid' })),
            actorId: Type.Optional(Type.String({ format: 'uuid' })),
            action: Type.Optional(Type.String({ maxLength: 100 })),
            clause: Type.Optional(Type.String({ maxLength: 20 })),
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            before: Type.Optional(Type.Integer({ minimum: 1 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_PAGE_MAX })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AuditEntrySchema), nextCursor: Nullable(Type.Integer()) }) },
      },
    },
    async (request) => {
      const q = request.query;
      return listAudit(ctx.db, principalOf(request), {
        ...q,
        from: q.from === undefined ? undefined : new Date(q.from),
        to: q.to === undefined ? undefined : new Date(q.to),
      });
    },
  );
};
