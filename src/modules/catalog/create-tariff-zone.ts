import type { AppContext } from '../../context.ts';
import { conflict } from '../../kernel/errors.ts';
import { localDate, type LocalDate } from '../../kernel/time.ts';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { assertCatalogWriter, checkAmount, checkDate, checkPrefixes } from './catalog-rules.ts';
import { tariffVersionsOf, type TariffVersion } from './product-queries.ts';
import { tariffVersions, tariffZones } from './schema.ts';

export interface CreateTariffZoneOptions {
  actor: AuditActor;
  zone: string;
  prefixes: string[];
  /** §8.3: price per minute in µ€. */
  perMinuteMicros: number;
  effective?: LocalDate | undefined;
  requestId?: string | undefined;
}

/** A new tariff zone (no notice: no call was priced in it yet). */
export async function createTariffZone(ctx: AppContext, opts: CreateTariffZoneOptions): Promise<{ zone: string; versions: TariffVersion[] }> {
  assertCatalogWriter(opts.actor, opts.zone);
  if (opts.effective !== undefined) checkDate(opts.effective, '/effective');
  checkAmount(opts.perMinuteMicros, '/perMinuteMicros');
  const prefixes = checkPrefixes(opts.prefixes);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    if ((await tariffVersionsOf(tx, opts.zone)).length > 0) throw conflict('ZONE_EXISTS', `tariff zone ${opts.zone} already exists`);
    const inserted = await tx.insert(tariffZones).values({ code: opts.zone, createdAt: now }).onConflictDoNothing().returning();
    if (inserted.length === 0) throw conflict('ZONE_EXISTS', `tariff zone ${opts.zone} already exists`);
    await tx.insert(tariffVersions).values({
      zone: opts.zone,
      effective: opts.effective ?? localDate(now),
      perMinuteMicros: opts.perMinuteMicros,
      prefixes,
      noticeAt: null,
      createdAt: now,
    });
    const versions = await tariffVersionsOf(tx, opts.zone);
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'tariff_zone.create',
      entity: 'tariff_zone',
      entityId: opts.zone,
      clientId: null,
      before: null,
      after: { zone: opts.zone, versions },
      requestId: opts.requestId ?? null,
    });
    return { zone: opts.zone, versions };
  });
}
