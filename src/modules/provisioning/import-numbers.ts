import type { AppContext } from '../../context.ts';
import { validationError } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { assertStaffRole, INVENTORY_ROLES, type Actor } from './access.ts';
import { assertInventoryNumber, expandRange, type NumberRange, type SingleNumber } from './number-import-rules.ts';
import { phoneNumbers, type NumberType } from './schema.ts';

export interface ImportNumbersOptions {
  actor: Actor;
  ranges?: NumberRange[] | undefined;
  numbers?: SingleNumber[] | undefined;
  requestId?: string | undefined;
}

export interface ImportResult {
  imported: number;
  /** Already in the inventory (left as they are). */
  skipped: number;
}

/** Adds numbers to the inventory (§3), `available`. Staff only. Numbers already known are skipped. */
export async function importNumbers(ctx: AppContext, opts: ImportNumbersOptions): Promise<ImportResult> {
  assertStaffRole(opts.actor, INVENTORY_ROLES, 'number_inventory', null);
  const wanted = new Map<string, NumberType>();
  (opts.ranges ?? []).forEach((r, i) => {
    for (const n of expandRange(r, `/ranges/${i}`)) wanted.set(n, r.type);
  });
  (opts.numbers ?? []).forEach((s, i) => {
    assertInventoryNumber(s.number, s.type, `/numbers/${i}/number`);
    wanted.set(s.number, s.type);
  });
  if (wanted.size === 0) throw validationError('/ranges', 'nothing to import');
  const now = ctx.clock.now();
  const rows = [...wanted].map(([number, type]) => ({ number, type, state: 'available' as const, importedAt: now }));
  return ctx.db.transaction(async (tx) => {
    let imported = 0;
    for (let i = 0; i < rows.length; i += 1000) {
      const done = await tx
        .insert(phoneNumbers)
        .values(rows.slice(i, i + 1000))
        .onConflictDoNothing()
        .returning({ number: phoneNumbers.number });
      imported += done.length;
    }
    const result = { imported, skipped: rows.length - imported };
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: 'number.import',
      entity: 'number_inventory',
      entityId: null,
      clientId: null,
      before: null,
      after: { ranges: opts.ranges ?? [], numbers: opts.numbers ?? [], ...result },
      requestId: opts.requestId ?? null,
    });
    return result;
  });
}
