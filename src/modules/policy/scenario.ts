/**
 * Scenario action `call` (SCENARIOS.md): the call goes through the same policy as the
 * SIP router (dbCallPolicy), is recorded as a CDR at the step instant and rated at once
 * (§8.3); the report's `calls[]` entry is read back from the CDR. A refusal is a result
 * (`allowed: false`, 403, clause), never a refused step. The call is reported answered and
 * ended to the policy at once, so the live limits (§4.3b/§4.10: attempts, spend, which
 * can set `security_suspended` and record `fraud_alert`) apply to scenario calls too.
 */
import { eq } from 'drizzle-orm';
import { normaliseDialled } from '../../kernel/e164.ts';
import type { ModuleScenario } from '../../scenario/actions.ts';
import { ScenarioFileError, type ScenarioStep } from '../../scenario/file.ts';
import { where } from '../../scenario/fields.ts';
import { cdrs } from '../../telephony/cdr-schema.ts';
import { recordCdr } from '../../telephony/cdrs.ts';
import { findUserByExtension } from '../provisioning/sip-directory.ts';
import { rateCdr } from '../rating/rate-client-month.ts';
import { dbCallPolicy } from './db-call-policy.ts';

function text(step: ScenarioStep, field: string, optional = false): string | null {
  const v = step.fields[field];
  if ((v === undefined || v === null) && optional) return null;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string' || v === '') throw new ScenarioFileError(where(step, field), 'required, a string');
  return v;
}

export const policyScenario: ModuleScenario = {
  actions: {
    call: {
      async run(run, step) {
        const db = run.platform.ctx.db;
        const clientId = run.clientId(step.fields.client, where(step, 'client'));
        const from = text(step, 'from')!;
        const dialled = text(step, 'to')!;
        const presented = text(step, 'callerId', true);
        const duration = step.fields.duration ?? 0;
        if (typeof duration !== 'number' || !Number.isSafeInteger(duration) || duration < 0) {
          throw new ScenarioFileError(where(step, 'duration'), 'answered seconds, a whole number ≥ 0');
        }
        const user = await findUserByExtension(db, clientId, from);
        const dial = normaliseDialled(dialled);
        const normalised = dial.kind === 'invalid' ? null : dial.number;
        const internal = normalised === null && (await findUserByExtension(db, clientId, dialled)) !== null;
        const at = run.clock.now();
        const policy = dbCallPolicy({ db, clock: run.clock });
        const decision = await policy.decide({
          clientId,
          userId: user?.userId ?? '',
          fromExtension: from,
          dialled,
          normalised,
          presentedCallerId: presented,
          privacy: false,
        });
        const routable = internal || normalised !== null;
        const allowed = decision.allowed && routable;
        const answered = allowed && duration > 0;
        const endedAt = new Date(at.getTime() + (answered ? duration : 0) * 1000);
        // The live limits (§4.3b/§4.10) see the call as the SIP router reports it.
        if (decision.admission !== undefined) {
          if (answered) await policy.answered(decision.admission, at);
          await policy.ended(decision.admission, endedAt);
        }
        const id = await recordCdr(db, {
          clientId,
          userId: user?.userId ?? null,
          callId: null,
          direction: internal ? 'internal' : 'outbound',
          fromExtension: from,
          dialled,
          destination: internal ? dialled : (normalised ?? dialled),
          callerId: decision.allowed ? decision.callerId : null,
          callerIdReplaced: decision.allowed ? decision.callerIdReplaced : false,
          emergency: decision.allowed && decision.emergency,
          allowed,
          clause: decision.allowed ? null : decision.clause,
          sipStatus: !decision.allowed ? decision.sipStatus : !routable ? 404 : answered ? 200 : 480,
          startedAt: at,
          answeredAt: answered ? at : null,
          endedAt,
          billableSeconds: answered ? duration : 0,
        });
        await rateCdr(db, id, at);
        const [c] = await db.select().from(cdrs).where(eq(cdrs.id, id));
        run.report.calls.push({
          step: step.index,
          client: run.clientNames.get(clientId) ?? clientId,
          from,
          dialled,
          to: c!.destination,
          allowed: c!.allowed,
          sipStatus: c!.sipStatus,
          clause: c!.clause,
          zone: c!.emergency ? null : c!.zone,
          billableSeconds: c!.billableSeconds,
          packSeconds: c!.packSeconds ?? 0,
          costCents: c!.costCents ?? 0,
          callerId: c!.callerId,
          callerIdReplaced: c!.callerIdReplaced,
        });
      },
    },
  },
};
