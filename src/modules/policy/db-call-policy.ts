/**
 * The call policy v1 (`CallPolicy` of src/telephony/policy.ts) over the database: reads
 * the facts, asks the pure `decideCall`, and records `callerid_replaced` (§17.1) when a
 * presented caller ID was refused. The decision carries `callerIdReplaced` too.
 */
import type { DbOrTx } from '../../db/client.ts';
import type { Clock } from '../../kernel/clock.ts';
import { EMERGENCY_NUMBERS } from '../../kernel/e164.ts';
import type { CallAttempt, CallPolicy } from '../../telephony/policy.ts';
import { contractStatusOf } from '../customers/contract-status.ts';
import { serviceStateOf } from '../customers/service-state.ts';
import { recordEvent } from '../events/index.ts';
import { mainNumber, numbersOfClient, userNumber } from '../provisioning/caller-id.ts';
import { findUserByExtension } from '../provisioning/sip-directory.ts';
import { decideCall, type PolicyDecision } from './call-decision.ts';

export interface DbCallPolicy extends CallPolicy {
  decide(call: CallAttempt): Promise<PolicyDecision>;
}

export interface DbCallPolicyOptions {
  db: DbOrTx;
  clock: Clock;
  emergencyNumbers?: readonly string[];
}

export function dbCallPolicy(opts: DbCallPolicyOptions): DbCallPolicy {
  const emergencyNumbers = opts.emergencyNumbers ?? EMERGENCY_NUMBERS;
  return {
    async decide(call) {
      const { db } = opts;
      const internal = call.normalised === null && (await findUserByExtension(db, call.clientId, call.dialled)) !== null;
      const [serviceState, contract, numbers, own, main] = [
        await serviceStateOf(db, call.clientId),
        await contractStatusOf(db, call.clientId),
        await numbersOfClient(db, call.clientId),
        call.userId ? await userNumber(db, call.userId) : null,
        await mainNumber(db, call.clientId),
      ];
      const decision = decideCall({
        serviceState: contract.state === 'terminated' ? 'terminated' : serviceState,
        enabled: contract.enabled,
        destination: internal ? call.dialled : call.normalised,
        internal,
        presentedCallerId: call.presentedCallerId,
        privacy: call.privacy,
        clientNumbers: new Set(numbers.map((n) => n.number)),
        userNumber: own,
        mainNumber: main,
        emergencyNumbers,
      });
      if (decision.allowed && decision.callerIdReplaced) {
        await recordEvent(db, {
          at: opts.clock.now(),
          clientId: call.clientId,
          type: 'callerid_replaced',
          clause: '17.1',
          details: { presented: call.presentedCallerId, callerId: decision.callerId, fromExtension: call.fromExtension },
        });
      }
      return decision;
    },

    // §13.1 nothing for a terminated client; §8.7 minimum service refuses inbound calls
    // too; §9.2 security suspension blocks outbound calls only.
    async decideInbound(call) {
      const { db } = opts;
      const [serviceState, contract] = [await serviceStateOf(db, call.clientId), await contractStatusOf(db, call.clientId)];
      const state = contract.state === 'terminated' ? 'terminated' : serviceState;
      if (state === null || state === 'terminated') return { allowed: false, sipStatus: 404, clause: '13.1', reason: 'Service terminated (§13.1)' };
      if (state === 'minimum_service') return { allowed: false, sipStatus: 403, clause: '8.7', reason: 'Minimum service: inbound calls refused (§8.7)' };
      return { allowed: true, callerId: call.callerNumber, emergency: false };
    },
    answered: () => Promise.resolve(),
    ended: () => Promise.resolve(),
  };
}
