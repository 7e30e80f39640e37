import type { AppContext } from '../../context.ts';
import { notFound, validationError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { assertTenant } from '../identity/tenancy.ts';
import { assertRole, CLIENT_UPDATE_ROLES, normalizeAddress, type AddressInput } from './client-rules.ts';
import { loadClient } from './client-view.ts';
import { clientSites } from './schema.ts';
import { toSiteView, type SiteView } from './site-view.ts';

export interface CreateSiteOptions {
  principal: AuditActor;
  clientId: string;
  name: string;
  address: AddressInput;
  requestId?: string | undefined;
}

/** A site of the client: the emergency location of the users placed there. Staff and the client admin. */
export async function createSite(ctx: AppContext, opts: CreateSiteOptions): Promise<SiteView> {
  const { principal, clientId } = opts;
  if (principal !== 'system') assertTenant(principal, clientId, { entity: 'client', entityId: clientId });
  assertRole(principal, [...CLIENT_UPDATE_ROLES, 'client_admin'], null, clientId);
  const name = opts.name.trim();
  if (name === '') throw validationError('/name', 'must not be empty');
  const address = normalizeAddress(opts.address, '/address');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    if (!(await loadClient(tx, clientId))) throw notFound('client', clientId);
    const [row] = await tx.insert(clientSites).values({ id: newId(now), clientId, name, address, createdAt: now }).returning();
    const view = toSiteView(row!);
    await recordAudit(tx, { at: now, actor: principal, action: 'site.create', entity: 'site', entityId: view.id, clientId, before: null, after: view, requestId: opts.requestId ?? null });
    return view;
  });
}
