import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { validationError } from '../../kernel/errors.ts';
import { parseInstant } from '../../kernel/time.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { invoicePdf, invoiceUbl } from './documents/render.ts';
import { issueCreditNote } from './issue-credit-note.ts';
import { listClientInvoices } from './list-client-invoices.ts';
import { nextRunInstant, previewRun } from './preview-run.ts';
import { getInvoice, searchInvoices } from './search-invoices.ts';

/** Staff who may issue credit notes and preview the run (§8). */
export const BILLING_ROLES = ['admin', 'billing'] as const;

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
const InvoiceItemSchema = Type.Intersect([
  InvoiceSchema,
  Type.Object({
    clientId: Type.String(),
    periodStart: Nullable(Type.String()),
    periodEnd: Nullable(Type.String()),
    creditedInvoiceId: Nullable(Type.String()),
    reason: Nullable(Type.String()),
  }),
]);
const DATE = '^\\d{4}-\\d{2}-\\d{2}$';
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** `attachment; filename="…"` (the names are invoice numbers: ASCII digits, letters and dashes). */
const attachment = (filename: string): string => `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`;

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

  app.get(
    '/invoices',
    {
      schema: {
        tags: ['billing'],
        summary: 'Invoices and credit notes, newest first (staff: every client; a client: its own only — another clientId is 404)',
        querystring: Type.Object(
          {
            clientId: Type.Optional(Type.String({ format: 'uuid' })),
            status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('paid')])),
            kind: Type.Optional(Type.Union([Type.Literal('invoice'), Type.Literal('credit_note')])),
            from: Type.Optional(Type.String({ pattern: DATE, description: 'issue date from (inclusive)' })),
            to: Type.Optional(Type.String({ pattern: DATE, description: 'issue date to (inclusive)' })),
            number: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'number or prefix, e.g. 2027- or NC2027-000001' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(InvoiceItemSchema), total: Type.Integer() }) },
      },
    },
    async (request) => searchInvoices(ctx.db, principalOf(request), request.query),
  );

  app.get(
    '/invoices/:id',
    { schema: { tags: ['billing'], summary: 'One invoice or credit note with its lines', params: IdParams, response: { 200: InvoiceItemSchema } } },
    async (request) => getInvoice(ctx.db, principalOf(request), request.params.id),
  );

  app.get(
    '/invoices/:id/pdf',
    { schema: { tags: ['billing'], summary: 'The PDF of an invoice or credit note (in the client language: fr, nl, en)', params: IdParams, produces: ['application/pdf'] } },
    async (request, reply) => {
      await getInvoice(ctx.db, principalOf(request), request.params.id);
      const pdf = await invoicePdf(ctx.db, request.params.id);
      return reply.type('application/pdf').header('content-disposition', attachment(pdf.filename)).send(pdf.body);
    },
  );

  app.get(
    '/invoices/:id/ubl',
    { schema: { tags: ['billing'], summary: 'The Peppol BIS Billing 3.0 UBL 2.1 XML of an invoice or credit note', params: IdParams, produces: ['application/xml'] } },
    async (request, reply) => {
      await getInvoice(ctx.db, principalOf(request), request.params.id);
      const ubl = await invoiceUbl(ctx.db, request.params.id);
      return reply.type('application/xml; charset=utf-8').header('content-disposition', attachment(ubl.filename)).send(ubl.body);
    },
  );

  app.post(
    '/invoices/:id/credit-notes',
    {
      config: { auth: { roles: BILLING_ROLES } },
      schema: {
        tags: ['billing'],
        summary: 'Issue a credit note (staff): the whole invoice, or some lines (amounts up to what remains creditable), with a reason',
        params: IdParams,
        body: Type.Object(
          {
            reason: Type.String({ minLength: 1, maxLength: 500 }),
            lines: Type.Optional(
              Type.Array(
                Type.Object(
                  {
                    lineId: Type.String({ format: 'uuid' }),
                    amountCents: Type.Optional(Type.Integer({ description: 'cents to credit (same sign as the line); default all that remains' })),
                    quantity: Type.Optional(Type.Integer({ minimum: 1 })),
                  },
                  { additionalProperties: false },
                ),
                { minItems: 1 },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const view = await issueCreditNote(ctx, { actor: principalOf(request), invoiceId: request.params.id, reason: request.body.reason, lines: request.body.lines, requestId: request.id });
      return reply.status(201).send(view);
    },
  );

  app.get(
    '/billing/preview',
    {
      config: { auth: { roles: BILLING_ROLES } },
      schema: {
        tags: ['billing'],
        summary: 'What the billing run at `at` (default: the next run) would invoice — nothing is issued (§8.1)',
        querystring: Type.Object(
          { at: Type.Optional(Type.String({ description: 'run instant, ISO 8601 with offset' })), clientId: Type.Optional(Type.String({ format: 'uuid' })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      let at: Date;
      if (request.query.at !== undefined) {
        try {
          at = parseInstant(request.query.at);
        } catch {
          throw validationError('/at', 'an ISO 8601 instant with an offset');
        }
      } else at = await nextRunInstant(ctx.db, ctx.clock.now());
      if (request.query.clientId) assertTenant(principal, request.query.clientId, { entity: 'client', entityId: request.query.clientId });
      return previewRun(ctx.db, at, { clientId: request.query.clientId });
    },
  );
};
