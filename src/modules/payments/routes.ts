import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { validationError } from '../../kernel/errors.ts';
import { parseInstant } from '../../kernel/time.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { recordPayment } from './record-payment.ts';

/** Who may record payments: staff admin and billing. */
export const PAYMENT_ROLES = ['admin', 'billing'] as const;

const PaymentViewSchema = Type.Object({
  id: Type.String(),
  externalId: Type.Union([Type.String(), Type.Null()]),
  clientId: Type.Union([Type.String(), Type.Null()]),
  amountCents: Type.Integer(),
  paidAt: Type.String(),
  matchedBy: Type.String(),
  allocations: Type.Array(Type.Object({ invoiceNumber: Type.String(), amountCents: Type.Integer() })),
  creditCents: Type.Integer(),
});

/** Manual payments (RULES.md "Dunning and suspension"); bank statement import comes later. */
export const paymentRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  app.post(
    '/payments',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'Record a payment (staff): matched by structured communication, invoice number, else the client; leftover → client credit',
        body: Type.Object(
          {
            amount: Type.Integer({ minimum: 1, description: 'euro cents' }),
            reference: Type.Optional(Type.String({ minLength: 1, maxLength: 140, description: 'structured communication +++ddd/dddd/ddddd+++ or free text' })),
            invoiceNumber: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{6}$' })),
            clientId: Type.Optional(Type.String({ format: 'uuid' })),
            paidAt: Type.Optional(Type.String({ format: 'date-time', description: 'value date-time with offset; default now' })),
            payerIban: Type.Optional(Type.String({ minLength: 5, maxLength: 34 })),
            externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'idempotency key (bank transaction id)' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: PaymentViewSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      let paidAt: Date | undefined;
      if (b.paidAt !== undefined) {
        try {
          paidAt = parseInstant(b.paidAt);
        } catch {
          throw validationError('/paidAt', 'an ISO 8601 instant with an offset');
        }
      }
      const view = await recordPayment(ctx, {
        actor: principalOf(request),
        amountCents: b.amount,
        reference: b.reference,
        invoiceNumber: b.invoiceNumber,
        clientId: b.clientId,
        paidAt,
        payerIban: b.payerIban,
        externalId: b.externalId,
        requestId: request.id,
      });
      return reply.status(201).send(view);
    },
  );
};
