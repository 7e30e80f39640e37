import type { AppContext } from '../../context.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { getProduct } from '../catalog/product-queries.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { loadClient } from './client-view.ts';
import { assertActorRole, assertNotTerminated, contractConflict, CONTRACT_WRITE_ROLES, ENABLE_OPTIONS } from './contract-rules.ts';
import { currentContract } from './contract-store.ts';
import { toContractView, type ContractView } from './contract-view.ts';
import { contractLines, contracts } from './schema.ts';
import { DEFAULT_MINIMUM_MONTHS } from './term-dates.ts';

export interface ContractLineInput {
  product: string;
  quantity: number;
  /** Agreed price in cents replacing the catalogue's (§5.1). */
  priceCents?: number | null | undefined;
}

export interface CreateContractOptions {
  actor: AuditActor;
  clientId: string;
  minimumMonths?: number | undefined;
  lines: ContractLineInput[];
  enable?: string[] | undefined;
  requestId?: string | undefined;
}

/** A draft Contract of Services (§1, §2.2); it is concluded by `signContract`. */
export async function createContract(ctx: AppContext, opts: CreateContractOptions): Promise<ContractView> {
  const { actor, clientId } = opts;
  if (actor !== 'system') assertTenant(actor, clientId, { entity: 'client', entityId: clientId });
  assertActorRole(actor, CONTRACT_WRITE_ROLES, 'contract', null, clientId);
  const minimumMonths = opts.minimumMonths ?? DEFAULT_MINIMUM_MONTHS;
  if (!Number.isInteger(minimumMonths) || minimumMonths < 0) throw validationError('/minimumMonths', 'must be a whole number of months');
  const enabled = [...new Set(opts.enable ?? [])];
  enabled.forEach((e, i) => {
    if (!(ENABLE_OPTIONS as readonly string[]).includes(e)) throw validationError(`/enable/${i}`, `must be one of ${ENABLE_OPTIONS.join(', ')}`);
  });
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    if (!(await loadClient(tx, clientId))) throw notFound('client', clientId);
    for (const [i, line] of opts.lines.entries()) {
      if (!(await getProduct(tx, line.product))) throw validationError(`/lines/${i}/product`, `unknown product ${line.product}`);
      if (!Number.isInteger(line.quantity) || line.quantity < 0) throw validationError(`/lines/${i}/quantity`, 'must be a whole number ≥ 0');
      if (line.priceCents != null && (!Number.isSafeInteger(line.priceCents) || line.priceCents < 0)) {
        throw validationError(`/lines/${i}/priceCents`, 'must be a whole number of cents ≥ 0');
      }
    }
    const current = await currentContract(tx, clientId, true);
    assertNotTerminated(current);
    if (current && current.state !== 'draft') throw contractConflict('The client already has a signed contract');
    const id = newId(now);
    const [row] = await tx.insert(contracts).values({ id, clientId, state: 'draft', minimumMonths, enabled, createdAt: now }).returning();
    if (opts.lines.length > 0) {
      await tx
        .insert(contractLines)
        .values(opts.lines.map((l) => ({ clientId, contractId: id, productCode: l.product, quantity: l.quantity, priceCents: l.priceCents ?? null })));
    }
    const view = await toContractView(tx, row!);
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'contract.create',
      entity: 'contract',
      entityId: id,
      clientId,
      before: null,
      after: view,
      requestId: opts.requestId ?? null,
    });
    return view;
  });
}
