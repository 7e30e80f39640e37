/**
 * The question the call router asks before every call (ARCHITECTURE: "asks
 * `policy` before every call"). The policy module (minimum service §8.7, caller
 * ID §17.1, fraud §4.3b) comes with a later issue; until then
 * `permissiveCallPolicy` allows everything with the presented caller ID and
 * flags emergency numbers so that they take the emergency route.
 */
import { EMERGENCY_NUMBERS, isEmergency } from '../kernel/e164.ts';

export interface CallAttempt {
  readonly clientId: string;
  readonly userId: string;
  readonly fromExtension: string;
  /** As dialled (Request-URI user part). */
  readonly dialled: string;
  /** E.164 or a short number (`normaliseDialled`); null when it did not normalise (an extension, garbage). */
  readonly normalised: string | null;
  /** The caller ID the phone presented (From user part), if any. */
  readonly presentedCallerId: string | null;
  /** Privacy requested (RFC 3323 `Privacy: id`/`user`, or anonymous From). */
  readonly privacy: boolean;
}

export type CallDecision =
  | {
      readonly allowed: true;
      /** The caller ID to present to the network (§17.1), null for anonymous. */
      readonly callerId: string | null;
      /** Take the emergency route (§8.7): never refused, never rated. */
      readonly emergency: boolean;
      /** §17.1: a presented caller ID was refused and replaced (recorded on the CDR); computed by the router when absent. */
      readonly callerIdReplaced?: boolean;
      /**
       * §17.1 / RFC 3325: the caller's true identity for P-Asserted-Identity on the trunk
       * (its own number, else the client's main number; null when it has none), read by
       * the policy with the caller's other facts. Absent = none (no P-Asserted-Identity).
       */
      readonly assertedIdentity?: string | null;
      /**
       * The policy's handle on this admitted call (§4.3b/§4.10 live limits): the router
       * passes it back to `answered`/`ended`. Absent when the policy keeps no live state.
       */
      readonly admission?: string;
    }
  | {
      readonly allowed: false;
      /** The SIP status to answer the caller with (403 for §8.7 and §4.3b). */
      readonly sipStatus: number;
      /** The RULES.md clause, e.g. `8.7`. */
      readonly clause: string;
      readonly reason: string;
    };

/** A call from the carrier to one of our numbers (DID). */
export interface InboundAttempt {
  readonly clientId: string;
  /** The called user; null when the DID goes to the client without a user. */
  readonly userId: string | null;
  /** The DID called, E.164. */
  readonly did: string;
  /** The caller's number as the carrier presented it (E.164), null when withheld. */
  readonly callerNumber: string | null;
}

export interface CallPolicy {
  /** Before every outbound or internal call of an authenticated user. */
  decide(call: CallAttempt): Promise<CallDecision>;
  /** Before an inbound call from the carrier reaches a client (§8.7: refused under minimum service; §13.1). */
  decideInbound(call: InboundAttempt): Promise<CallDecision>;
  /** The admitted call was answered (2xx) at `at`. */
  answered(admission: string, at: Date): Promise<void>;
  /** The admitted call ended (answered or not) at `at`; idempotent. */
  ended(admission: string, at: Date): Promise<void>;
}

/** Allows every call; emergency numbers (112, 100, 101 by default) go to the emergency route. */
export function permissiveCallPolicy(emergencyNumbers: readonly string[] = EMERGENCY_NUMBERS): CallPolicy {
  return {
    decide(call) {
      const number = call.normalised ?? call.dialled;
      return Promise.resolve({
        allowed: true,
        callerId: call.privacy ? null : call.presentedCallerId,
        emergency: isEmergency(number, emergencyNumbers),
      });
    },
    decideInbound() {
      return Promise.resolve({ allowed: true, callerId: null, emergency: false });
    },
    answered: () => Promise.resolve(),
    ended: () => Promise.resolve(),
  };
}

/** What `timedCallPolicy` measures: a decision for a phone's call, or for a carrier's. */
export type DecisionKind = 'outbound' | 'inbound';

/**
 * The same policy, the duration of every decision (issue #7: "the policy adds < 1 ms
 * p99 to call setup") reported to `observe` in seconds, refusals and failures included.
 * `answered`/`ended` run off the setup path and are passed through.
 */
export function timedCallPolicy(policy: CallPolicy, observe: (kind: DecisionKind, seconds: number) => void): CallPolicy {
  const timed =
    <A>(kind: DecisionKind, decide: (a: A) => Promise<CallDecision>) =>
    async (a: A): Promise<CallDecision> => {
      const started = performance.now();
      try {
        return await decide(a);
      } finally {
        observe(kind, (performance.now() - started) / 1000);
      }
    };
  return {
    decide: timed('outbound', (c: CallAttempt) => policy.decide(c)),
    decideInbound: timed('inbound', (c: InboundAttempt) => policy.decideInbound(c)),
    answered: (admission, at) => policy.answered(admission, at),
    ended: (admission, at) => policy.ended(admission, at),
  };
}
