import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { listClientInvoices } from './list-client-invoices.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const LineSchema = Type.Object({
  type: Type.String(),
  product: Nullable(Type.String()),
  zone: Nullable(Type.String()),
  quantity: Type.Integer(),
  periodStart: Nullable(Type.String()),
  periodEnd: Nullable(Type.String()),
  amountCents: Type.Integer(),
  vatRate: Type.Integer(),
  clause: Nullable(Type.String()),
  description: Nullable(Type.String()),
});
const InvoiceSchema = Type.Object({
  id: Type.String(),
  number: Type.String(),
  kind: Type.String(),
  issueDate: Type.String(),
  dueDate: Type.String(),
  status: Type.String(),
  totalExclVatCents: Type.Integer(),
  vatCents: Type.Integer(),
  totalInclVatCents: Type.Integer(),
  structuredReference: Type.String(),
  lines: Type.Array(LineSchema),
});

/** Invoices (§8.1, §5.2), read-only for now: PDF, UBL, credit notes and payments come later. */
export const billingRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.get(
    '/clients/:clientId/invoices',
    {
      schema: {
        tags: ['billing'],
        summary: "The client's invoices with their lines, and its balance (open amounts, VAT included)",
        params: Type.Object({ clientId: Type.String({ format: 'uuid' }) }),
        response: { 200: Type.Object({ items: Type.Array(InvoiceSchema), balanceCents: Type.Integer() }) },
      },
    },
    async (request) => listClientInvoices(ctx.db, { actor: principalOf(request), clientId: request.params.clientId }),
  );
};
