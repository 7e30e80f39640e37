/**
 * Issue #7: the live counters of the §4.3b/§4.10 limits, out of the database: concurrent
 * outbound calls per client, attempts per user per sliding minute, international + premium
 * spend per client per sliding hour from the live calls at their tariff. `admit` reads the
 * counters, records the attempt and takes the slot in ONE atomic step, so that two
 * decisions can never both take the last slot. Two implementations: in memory (one SIP
 * node, this file) and Redis (several nodes, redis-admission-store.ts); the database gate
 * (db-call-policy.ts) is the third mode. The decision rows stay the record.
 */
import { ATTEMPT_WINDOW_MS, callSpendMicros, MAX_CALL_MS, SPEND_WINDOW_MS } from './limits.ts';

export interface AdmitRequest {
  readonly id: string;
  readonly clientId: string;
  /** null: no attempt counted (no user, or an emergency call). */
  readonly userId: string | null;
  readonly atMs: number;
  /** §4.3b/§4.10 the limits that suspend are checked (an active client's non-emergency call). */
  readonly checkLimits: boolean;
  /** Refused by a rule before the concurrency (§4.3b barring, §8.7/§9.2/§13.1 state): no slot taken. */
  readonly barred: boolean;
  /** The call occupies a §4.3b outbound slot (national, international, high-risk, premium). */
  readonly occupiesSlot: boolean;
  /** §4.10 its spend counts (international, high-risk, premium), at this rate (µ€/min). */
  readonly spendRate: number | null;
  readonly maxConcurrent: number;
  readonly maxAttempts: number;
  readonly maxSpendMicros: number;
  /** Counters start here at the earliest (staff lifted a suspension), epoch ms; 0 = none. */
  readonly resetMs: number;
}

export interface AdmitResult {
  /** The slot was taken (or none was needed) and no limit tripped. */
  readonly admitted: boolean;
  /** The counters before this attempt (the LimitFacts of the decision). */
  readonly liveOutboundCalls: number;
  readonly userAttemptsLastMinute: number;
  readonly spendMicrosLastHour: number;
}

export interface EndedCall {
  readonly clientId: string;
  /** An answered call whose spend counts (§4.10: the hourly spend is re-checked). */
  readonly spent: boolean;
}

/** What the database recorded of a client before this process started (see `seed`). */
export interface SeedCounters {
  /** Attempts of the sliding minute: user, instant (epoch ms). */
  readonly attempts: readonly (readonly [userId: string, atMs: number])[];
  /** Ended, answered spend calls of the sliding hour. */
  readonly spend: readonly { readonly startedMs: number; readonly answeredMs: number; readonly endedMs: number; readonly rate: number }[];
}

export interface AdmissionStore {
  readonly kind: 'memory' | 'redis';
  /**
   * In-memory store only: a client's attempts and spend as the database recorded them,
   * before its first decision in this process (a restarted node keeps counting the sliding
   * minute and hour, §4.3b/§4.10). Calls live before the restart are gone with it.
   */
  seed?(clientId: string, counters: SeedCounters): void;
  admit(r: AdmitRequest): Promise<AdmitResult>;
  /** Gives back a slot taken by `admit` (a decision finally refused). */
  release(id: string): Promise<void>;
  answered(id: string, atMs: number): Promise<void>;
  /** null: unknown or already ended (idempotent). */
  ended(id: string, atMs: number): Promise<EndedCall | null>;
  /** §4.10 the client's spend in the sliding hour ending at `atMs`, live calls counted up to it. */
  spend(clientId: string, atMs: number, resetMs: number): Promise<number>;
  /** Clients with an answered spend call still live (the minute sweep re-checks them). */
  liveSpendClients(atMs: number): Promise<string[]>;
  close(): Promise<void>;
}

interface Call {
  readonly clientId: string;
  readonly startedMs: number;
  readonly rate: number | null;
  answeredMs: number | null;
  endedMs: number | null;
}

interface ClientCounters {
  /** Admitted outbound calls not ended. */
  readonly live: Map<string, Call>;
  /**
   * No call of `live` started before this instant (epoch ms; a lower bound, Infinity when
   * none): `admit` looks for lost `ended`s only once one may be older than the maximum call
   * duration — not through every live call of the client at every attempt (issue #4: a
   * client with 100 calls in flight had 100 entries read and allocated per decision).
   */
  oldestMs: number;
  /** Answered spend calls that may still count in the hour. */
  readonly spend: Map<string, Call>;
  /** Attempt instants per user (oldest first). */
  readonly attempts: Map<string, number[]>;
}

/** A call never reported ended counts as ended at the maximum call duration (§4.10, lost `ended`). */
const endOf = (c: Call, atMs: number): number | null =>
  c.endedMs ?? (c.startedMs + MAX_CALL_MS < atMs ? c.startedMs + MAX_CALL_MS : null);

function spendOf(k: ClientCounters, atMs: number, resetMs: number): number {
  const from = Math.max(atMs - SPEND_WINDOW_MS, resetMs);
  let total = 0;
  for (const [id, c] of k.spend) {
    const end = endOf(c, atMs);
    if (end !== null && end <= atMs - SPEND_WINDOW_MS) {
      k.spend.delete(id); // out of every future window
      continue;
    }
    total += callSpendMicros(
      { answeredAt: new Date(c.answeredMs!), endedAt: end === null ? null : new Date(end), perMinuteMicros: c.rate ?? 0 },
      new Date(from),
      new Date(atMs),
    );
  }
  return total;
}

/** One SIP node: every counter in this process (the default with PGlite). */
export function memoryAdmissionStore(): AdmissionStore {
  const clients = new Map<string, ClientCounters>();
  const calls = new Map<string, Call>();
  const of = (clientId: string): ClientCounters => {
    let k = clients.get(clientId);
    if (!k) clients.set(clientId, (k = { live: new Map(), oldestMs: Infinity, spend: new Map(), attempts: new Map() }));
    return k;
  };
  return {
    kind: 'memory',
    seed(clientId, counters) {
      const k = of(clientId);
      for (const [userId, atMs] of counters.attempts) {
        const list = k.attempts.get(userId) ?? [];
        list.push(atMs);
        list.sort((a, b) => a - b);
        k.attempts.set(userId, list);
      }
      for (const c of counters.spend) {
        k.spend.set(`seed:${k.spend.size}:${c.startedMs}`, { clientId, startedMs: c.startedMs, rate: c.rate, answeredMs: c.answeredMs, endedMs: c.endedMs });
      }
    },
    admit(r) {
      const k = of(r.clientId);
      if (k.oldestMs + MAX_CALL_MS < r.atMs) {
        let oldest = Infinity;
        for (const [id, c] of k.live) {
          if (c.startedMs + MAX_CALL_MS < r.atMs) {
            k.live.delete(id); // a lost `ended`
            calls.delete(id);
          } else if (c.startedMs < oldest) oldest = c.startedMs;
        }
        k.oldestMs = oldest;
      }
      let attempts = 0;
      if (r.userId !== null) {
        const list = k.attempts.get(r.userId) ?? [];
        const from = Math.max(r.atMs - ATTEMPT_WINDOW_MS, r.resetMs);
        while (list.length > 0 && list[0]! <= r.atMs - ATTEMPT_WINDOW_MS) list.shift();
        for (const t of list) if (t > from) attempts++;
        list.push(r.atMs);
        k.attempts.set(r.userId, list);
      }
      const live = k.live.size;
      const spend = r.checkLimits ? spendOf(k, r.atMs, r.resetMs) : 0;
      const tripped = r.checkLimits && (attempts + 1 > r.maxAttempts || spend > r.maxSpendMicros);
      let admitted = !tripped && !r.barred;
      if (admitted && r.occupiesSlot) {
        if (r.checkLimits && live + 1 > r.maxConcurrent) admitted = false;
        else {
          const call: Call = { clientId: r.clientId, startedMs: r.atMs, rate: r.spendRate, answeredMs: null, endedMs: null };
          k.live.set(r.id, call);
          if (r.atMs < k.oldestMs) k.oldestMs = r.atMs;
          calls.set(r.id, call);
        }
      }
      return Promise.resolve({ admitted, liveOutboundCalls: live, userAttemptsLastMinute: attempts, spendMicrosLastHour: spend });
    },
    release(id) {
      const c = calls.get(id);
      if (c) {
        calls.delete(id);
        clients.get(c.clientId)?.live.delete(id);
      }
      return Promise.resolve();
    },
    answered(id, atMs) {
      const c = calls.get(id);
      if (c && c.answeredMs === null && c.endedMs === null) {
        c.answeredMs = atMs;
        if (c.rate !== null) of(c.clientId).spend.set(id, c);
      }
      return Promise.resolve();
    },
    ended(id, atMs) {
      const c = calls.get(id);
      if (!c || c.endedMs !== null) return Promise.resolve(null);
      c.endedMs = atMs;
      calls.delete(id);
      clients.get(c.clientId)?.live.delete(id);
      return Promise.resolve({ clientId: c.clientId, spent: c.rate !== null && c.answeredMs !== null });
    },
    spend(clientId, atMs, resetMs) {
      return Promise.resolve(spendOf(of(clientId), atMs, resetMs));
    },
    liveSpendClients(atMs) {
      const out: string[] = [];
      for (const [clientId, k] of clients) {
        for (const c of k.spend.values()) {
          if (endOf(c, atMs) === null) {
            out.push(clientId);
            break;
          }
        }
      }
      return Promise.resolve(out);
    },
    close: () => Promise.resolve(),
  };
}
