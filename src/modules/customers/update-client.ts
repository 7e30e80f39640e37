import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { conflict, notFound } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { isUniqueViolation } from '../identity/unique-violation.ts';
import { assertRole, CLIENT_UPDATE_ROLES, normalizeAddress, normalizeEnterpriseNumber, normalizeName, checkDeposit, type ClientFields } from './client-rules.ts';
import { toClientView, type ClientView } from './client-view.ts';
import { clients } from './schema.ts';

export interface UpdateClientOptions extends ClientFields {
  principal: AuditActor;
  clientId: string;
  name?: string | undefined;
  requestId?: string | undefined;
}

export async function updateClient(ctx: AppContext, opts: UpdateClientOptions): Promise<ClientView> {
  const { principal, clientId } = opts;
  if (principal !== 'system') assertTenant(principal, clientId, { entity: 'client', entityId: clientId });
  assertRole(principal, CLIENT_UPDATE_ROLES, clientId, clientId);
  const patch: Partial<typeof clients.$inferInsert> = {};
  if (opts.name !== undefined) patch.name = normalizeName(opts.name);
  if (opts.enterpriseNumber !== undefined) patch.enterpriseNumber = normalizeEnterpriseNumber(opts.enterpriseNumber);
  if (opts.language !== undefined) patch.language = opts.language;
  if (opts.billingEmail !== undefined) patch.billingEmail = opts.billingEmail;
  if (opts.legalName !== undefined) patch.legalName = opts.legalName?.trim() ?? null;
  if (opts.address !== undefined) patch.address = opts.address ? normalizeAddress(opts.address, '/address') : null;
  if (opts.depositCents !== undefined) patch.depositCents = checkDeposit(opts.depositCents);
  try {
    return await ctx.db.transaction(async (tx) => {
      const [current] = await tx.select().from(clients).where(eq(clients.id, clientId)).for('update');
      if (!current) throw notFound('client', clientId);
      const before = toClientView(current);
      if (Object.keys(patch).length === 0) return before;
      const [row] = await tx.update(clients).set(patch).where(eq(clients.id, clientId)).returning();
      const after = toClientView(row!);
      await recordAudit(tx, {
        at: ctx.clock.now(),
        actor: principal,
        action: 'client.update',
        entity: 'client',
        entityId: clientId,
        clientId,
        before,
        after,
        requestId: opts.requestId ?? null,
      });
      return after;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'clients_enterprise_number_uq')) {
      throw conflict('ENTERPRISE_NUMBER_TAKEN', 'A client with this enterprise number already exists');
    }
    throw e;
  }
}
