import type { AppContext } from '../../context.ts';
import { conflict } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { AuditActor } from '../audit/record-audit.ts';
import { isUniqueViolation } from '../identity/unique-violation.ts';
import { assertRole, CLIENT_CREATE_ROLES, normalizeAddress, normalizeEnterpriseNumber, normalizeName, checkDeposit, type ClientFields } from './client-rules.ts';
import { toClientView, type ClientView } from './client-view.ts';
import { clients } from './schema.ts';

export interface CreateClientOptions extends ClientFields {
  principal: AuditActor;
  name: string;
  requestId?: string | undefined;
}

export async function createClient(ctx: AppContext, opts: CreateClientOptions): Promise<ClientView> {
  assertRole(opts.principal, CLIENT_CREATE_ROLES, null, null);
  const now = ctx.clock.now();
  const values = {
    id: newId(now),
    name: normalizeName(opts.name),
    enterpriseNumber: normalizeEnterpriseNumber(opts.enterpriseNumber) ?? null,
    language: opts.language ?? 'fr',
    billingEmail: opts.billingEmail ?? null,
    legalName: opts.legalName?.trim() ?? null,
    address: opts.address ? normalizeAddress(opts.address, '/address') : null,
    depositCents: checkDeposit(opts.depositCents ?? 0),
    createdAt: now,
  };
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx.insert(clients).values(values).returning();
      const view = toClientView(row!);
      await recordAudit(tx, {
        at: now,
        actor: opts.principal,
        action: 'client.create',
        entity: 'client',
        entityId: view.id,
        clientId: view.id,
        before: null,
        after: view,
        requestId: opts.requestId ?? null,
      });
      return view;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'clients_enterprise_number_uq')) {
      throw conflict('ENTERPRISE_NUMBER_TAKEN', 'A client with this enterprise number already exists');
    }
    throw e;
  }
}
