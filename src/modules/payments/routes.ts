import { Type } from 'typebox';
import type { AppContext } from '../../context.ts';
import { validationError } from '../../kernel/errors.ts';
import { localDate, parseInstant } from '../../kernel/time.ts';
import { principalOf } from '../../http/auth.ts';
import type { HttpServer, RoutePlugin } from '../../http/server.ts';
import { clientAccount, receivablesAgeing } from './account-views.ts';
import { allocatePayment } from './allocate-payment.ts';
import type { BankFormat } from './bank/index.ts';
import { recordDepositMovement } from './deposits.ts';
import { dunningPolicyOf, setDunningPolicy } from './dunning-settings.ts';
import { registerGuarantee, releaseGuarantee } from './guarantees.ts';
import { importBankStatement } from './import-statement.ts';
import { getStatement, listStatements } from './list-statements.ts';
import { recordPayment, unallocatedPayments } from './record-payment.ts';
import { reactivateClient, suspendClient, STAFF_SUSPENSION_CLAUSES } from './staff-suspension.ts';

/** Who may record payments, import statements, allocate, register guarantees and deposits: staff admin and billing. */
export const PAYMENT_ROLES = ['admin', 'billing'] as const;
/** Who may suspend / reactivate by hand (§9.1c, §9.2): admin, billing, noc (security). */
export const SUSPENSION_ROLES = ['admin', 'billing', 'noc'] as const;

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const PaymentViewSchema = Type.Object({
  id: Type.String(),
  externalId: Nullable(Type.String()),
  clientId: Nullable(Type.String()),
  amountCents: Type.Integer(),
  paidAt: Type.String(),
  matchedBy: Type.String(),
  reference: Nullable(Type.String()),
  freeText: Nullable(Type.String()),
  payerIban: Nullable(Type.String()),
  allocations: Type.Array(Type.Object({ invoiceNumber: Type.String(), amountCents: Type.Integer() })),
  creditCents: Type.Integer(),
});

const ImportSummarySchema = Type.Object({
  statementId: Type.String(),
  format: Type.String(),
  account: Type.String(),
  date: Type.String(),
  alreadyImported: Type.Boolean(),
  entries: Type.Integer(),
  credits: Type.Integer(),
  debits: Type.Integer(),
  new: Type.Integer(),
  matched: Type.Integer(),
  unallocated: Type.Integer(),
  duplicates: Type.Integer(),
  creditCents: Type.Integer(),
  items: Type.Array(
    Type.Object({
      entryId: Type.String(),
      direction: Type.String(),
      amountCents: Type.Integer(),
      valueDate: Type.String(),
      reference: Nullable(Type.String()),
      freeText: Nullable(Type.String()),
      payerIban: Nullable(Type.String()),
      status: Type.String(),
      paymentId: Nullable(Type.String()),
      matchedBy: Nullable(Type.String()),
      clientId: Nullable(Type.String()),
      invoices: Type.Array(Type.String()),
    }),
  ),
});

const StateChangeSchema = Type.Object({ clientId: Type.String(), serviceState: Type.String(), clause: Type.String(), reason: Type.String(), at: Type.String() });
const DepositSchema = Type.Object({ requiredCents: Type.Integer(), receivedCents: Type.Integer(), offsetCents: Type.Integer(), refundedCents: Type.Integer(), heldCents: Type.Integer() });
const Buckets = {
  notDueCents: Type.Integer(),
  d0to30Cents: Type.Integer(),
  d31to60Cents: Type.Integer(),
  d61to90Cents: Type.Integer(),
  over90Cents: Type.Integer(),
  totalCents: Type.Integer(),
};
const ClientParams = Type.Object({ clientId: Type.String({ format: 'uuid' }) });

/** Payments (RULES.md "Dunning and suspension"), bank statements, the unallocated queue, suspensions, guarantees, deposits and account views. */
export const paymentRoutes: RoutePlugin = async (app: HttpServer, ctx: AppContext) => {
  // Bank statements come as raw bodies: CAMT.053 as XML; CODA as text/plain (Fastify's own parser).
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });

  app.post(
    '/payments',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'Record a payment (staff): matched by structured communication, invoice number, client, payer IBAN; leftover → client credit',
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
        payerIban: b.payerIban?.replace(/\s+/g, '').toUpperCase(),
        externalId: b.externalId,
        requestId: request.id,
      });
      return reply.status(201).send(view);
    },
  );

  app.post(
    '/bank-statements',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'Import a bank statement (staff): CAMT.053 (application/xml) or CODA (text/plain); one transaction, idempotent; a malformed file is refused whole (422 naming the line/element)',
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('camt053'), Type.Literal('coda')])) }, { additionalProperties: false }),
        response: { 200: ImportSummarySchema, 201: ImportSummarySchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (typeof body !== 'string' || body.trim() === '') throw validationError('/', 'the statement file as the raw body (application/xml for CAMT.053, text/plain for CODA)', 'BANK_FILE_MISSING');
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const format: BankFormat | undefined = request.query.format ?? (type === 'application/xml' || type === 'text/xml' ? 'camt053' : type === 'text/plain' ? 'coda' : undefined);
      const summary = await importBankStatement(ctx, { actor: principalOf(request), text: body, format, requestId: request.id });
      return reply.status(summary.alreadyImported || summary.new === 0 ? 200 : 201).send(summary);
    },
  );

  const StatementSchema = {
    id: Type.String(),
    statementId: Type.String(),
    format: Type.String(),
    account: Type.String(),
    date: Type.String(),
    entries: Type.Integer(),
    importedAt: Type.String(),
    importedBy: Type.String(),
  };
  app.get(
    '/bank-statements',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: { tags: ['payments'], summary: 'Imported bank statements (staff), newest first', response: { 200: Type.Object({ items: Type.Array(Type.Object(StatementSchema)) }) } },
    },
    async () => ({ items: await listStatements(ctx.db) }),
  );
  app.get(
    '/bank-statements/:statementRowId',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'One imported statement with every entry (credits and debits) and the payment each credit became',
        params: Type.Object({ statementRowId: Type.String({ format: 'uuid' }) }),
        response: {
          200: Type.Object({
            ...StatementSchema,
            items: Type.Array(
              Type.Object({
                entryId: Type.String(),
                direction: Type.String(),
                amountCents: Type.Integer(),
                bookingDate: Type.String(),
                valueDate: Type.String(),
                reference: Nullable(Type.String()),
                freeText: Nullable(Type.String()),
                payerIban: Nullable(Type.String()),
                payerName: Nullable(Type.String()),
                paymentId: Nullable(Type.String()),
                clientId: Nullable(Type.String()),
                matchedBy: Nullable(Type.String()),
              }),
            ),
          }),
        },
      },
    },
    async (request) => getStatement(ctx.db, request.params.statementRowId),
  );

  app.get(
    '/payments/unallocated',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: { tags: ['payments'], summary: 'The unallocated payments queue (staff), oldest first', response: { 200: Type.Object({ items: Type.Array(PaymentViewSchema) }) } },
    },
    async () => ({ items: await unallocatedPayments(ctx.db) }),
  );

  app.post(
    '/payments/:paymentId/allocate',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'Allocate an unallocated payment to a client (its open invoices, oldest first) or to an invoice (staff, audited)',
        params: Type.Object({ paymentId: Type.String({ format: 'uuid' }) }),
        body: Type.Object(
          {
            clientId: Type.Optional(Type.String({ format: 'uuid' })),
            invoiceNumber: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{6}$' })),
            note: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PaymentViewSchema },
      },
    },
    async (request) =>
      allocatePayment(ctx, { actor: principalOf(request), paymentId: request.params.paymentId, clientId: request.body.clientId, invoiceNumber: request.body.invoiceNumber, note: request.body.note, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/suspend',
    {
      config: { auth: { roles: SUSPENSION_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'Suspend a client by hand with a reason: §9.1c (breach of §4 → minimum service) or §9.2 (security → security_suspended)',
        params: ClientParams,
        body: Type.Object({ clause: Type.Union(STAFF_SUSPENSION_CLAUSES.map((c) => Type.Literal(c))), reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false }),
        response: { 200: StateChangeSchema },
      },
    },
    async (request) => suspendClient(ctx, { actor: principalOf(request), clientId: request.params.clientId, clause: request.body.clause, reason: request.body.reason, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/reactivate',
    {
      config: { auth: { roles: SUSPENSION_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'Reactivate a suspended client by hand with a reason (§9.2, §9.1c); lifts every open suspension',
        params: ClientParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }), clause: Type.Optional(Type.String({ pattern: '^\\d+(\\.\\d+)?[a-z]?$' })) }, { additionalProperties: false }),
        response: { 200: StateChangeSchema },
      },
    },
    async (request) => reactivateClient(ctx, { actor: principalOf(request), clientId: request.params.clientId, clause: request.body.clause, reason: request.body.reason, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/guarantees',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: '§9.3: register a bank guarantee covering a disputed invoice amount (no dunning on the covered part)',
        params: ClientParams,
        body: Type.Object(
          { invoiceNumber: Type.String({ pattern: '^\\d{4}-\\d{6}$' }), amount: Type.Integer({ minimum: 1, description: 'euro cents' }), reference: Type.Optional(Type.String({ maxLength: 140 })) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ id: Type.String(), clientId: Type.String(), invoiceNumber: Type.String(), amountCents: Type.Integer(), reference: Nullable(Type.String()), registeredAt: Type.String() }),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await registerGuarantee(ctx, { actor: principalOf(request), clientId: request.params.clientId, invoiceNumber: request.body.invoiceNumber, amountCents: request.body.amount, reference: request.body.reference, requestId: request.id }),
      ),
  );

  app.post(
    '/clients/:clientId/guarantees/:guaranteeId/release',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: '§9.3: release a guarantee (dispute settled); the amount, if still open, is dunned again from the next daily evaluation',
        params: Type.Object({ clientId: Type.String({ format: 'uuid' }), guaranteeId: Type.String({ format: 'uuid' }) }),
        body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ id: Type.String(), clientId: Type.String(), invoiceNumber: Type.String(), amountCents: Type.Integer(), reference: Nullable(Type.String()), registeredAt: Type.String(), releasedAt: Type.String() }),
        },
      },
    },
    async (request) => releaseGuarantee(ctx, { actor: principalOf(request), clientId: request.params.clientId, guaranteeId: request.params.guaranteeId, reason: request.body.reason, requestId: request.id }),
  );

  app.post(
    '/clients/:clientId/deposit',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: '§5.3: record a deposit received or refunded (the amount required is the client’s depositCents)',
        params: ClientParams,
        body: Type.Object(
          { kind: Type.Union([Type.Literal('received'), Type.Literal('refunded')]), amount: Type.Integer({ minimum: 1, description: 'euro cents' }), note: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: DepositSchema },
      },
    },
    async (request) => recordDepositMovement(ctx, { actor: principalOf(request), clientId: request.params.clientId, kind: request.body.kind, amountCents: request.body.amount, note: request.body.note, requestId: request.id }),
  );

  app.get(
    '/clients/:clientId/account',
    {
      schema: {
        tags: ['payments'],
        summary: "The client's account: balance, credit, deposit, open invoices, payments and dunning history (a client sees its own only)",
        params: ClientParams,
        response: {
          200: Type.Object({
            clientId: Type.String(),
            serviceState: Type.String(),
            balanceCents: Type.Integer(),
            creditCents: Type.Integer(),
            deposit: DepositSchema,
            openInvoices: Type.Array(
              Type.Object({
                number: Type.String(),
                issueDate: Type.String(),
                dueDate: Type.String(),
                totalInclVatCents: Type.Integer(),
                openCents: Type.Integer(),
                guaranteedCents: Type.Integer(),
                daysLate: Type.Integer(),
                structuredReference: Type.String(),
              }),
            ),
            payments: Type.Array(PaymentViewSchema),
            dunning: Type.Array(Type.Object({ at: Type.String(), type: Type.String(), clause: Nullable(Type.String()), details: Type.Record(Type.String(), Type.Unknown()) })),
          }),
        },
      },
    },
    async (request) => clientAccount(ctx.db, { actor: principalOf(request), clientId: request.params.clientId, today: localDate(ctx.clock.now()) }),
  );

  app.get(
    '/receivables/ageing',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: {
        tags: ['payments'],
        summary: 'Ageing of receivables across clients (staff): open amounts by days past due — not due, 0–30, 31–60, 61–90, 90+',
        querystring: Type.Object({ asOf: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ asOf: Type.String(), totals: Type.Object(Buckets), clients: Type.Array(Type.Object({ clientId: Type.String(), name: Type.String(), ...Buckets })) }) },
      },
    },
    async (request) => receivablesAgeing(ctx.db, request.query.asOf ?? localDate(ctx.clock.now())),
  );

  const DunningPolicySchema = Type.Object({
    reminder1Day: Type.Integer(),
    reminder2Day: Type.Integer(),
    formalNoticeDay: Type.Integer(),
    suspensionDay: Type.Integer(),
    reminderFeeCents: Type.Integer(),
    terminationEligibleMonths: Type.Integer(),
  });
  app.get(
    '/payments/dunning-policy',
    {
      config: { auth: { roles: PAYMENT_ROLES } },
      schema: { tags: ['payments'], summary: 'The dunning policy in force (RULES.md defaults with the operator\'s changes): D+n of each step, reminder fee, months to termination eligibility', response: { 200: DunningPolicySchema } },
    },
    async () => dunningPolicyOf(ctx.db),
  );
  app.patch(
    '/payments/dunning-policy',
    {
      config: { auth: { roles: ['admin'] } },
      schema: {
        tags: ['payments'],
        summary: 'Change the dunning policy (staff admin; audited): any of its fields, steps kept in the contract\'s order (§9.1a)',
        body: Type.Partial(DunningPolicySchema, { additionalProperties: false, minProperties: 1 }),
        response: { 200: DunningPolicySchema },
      },
    },
    async (request) => setDunningPolicy(ctx, { actor: principalOf(request), changes: request.body, requestId: request.id }),
  );
};
