/**
 * What the router writes about a call, never blocking or breaking it: the CDR (opened
 * at the INVITE, answered, closed with who hung up and why; refusals and unroutable
 * calls recorded closed at once) and the call policy's admission hooks (`answered` at
 * the 2xx, `ended` once at the end whatever the outcome). Writes of one call run in
 * order; a failure is logged. The CDR writes of all calls go through one `CdrWriter`
 * (group commit: a batch's callers share its statements and await its commit).
 */
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Call, CallEnd } from './call-legs.ts';
import { CdrWriter } from './cdr-writer.ts';
import type { CdrInput } from './cdrs.ts';
import type { CallPolicy } from './policy.ts';

/** The CDR fields known when the call starts. */
export type CdrStart = Omit<CdrInput, 'sipStatus' | 'answeredAt' | 'endedAt' | 'billableSeconds' | 'hangupBy' | 'endReason' | 'allowed' | 'clause'>;

const ignore = (): void => undefined;

/**
 * Both writes run at once; settles when both have (the call's next write never overtakes
 * either), the first failure (in argument order) thrown. Two awaits rather than
 * `Promise.allSettled` over a mapped rest array (issue #4: its arrays, result objects and
 * per-element closures at every answer and end of a call); `b` is marked handled at once, so
 * that its failure while `a` is pending is not an unhandled rejection.
 */
export async function together(a: Promise<void> | undefined, b: Promise<void> | undefined): Promise<void> {
  if (b !== undefined) b.catch(ignore);
  let failed = false;
  let failure: unknown;
  if (a !== undefined) {
    try {
      await a;
    } catch (e) {
      failed = true;
      failure = e;
    }
  }
  if (b !== undefined) {
    try {
      await b;
    } catch (e) {
      if (!failed) {
        failed = true;
        failure = e;
      }
    }
  }
  if (failed) throw failure;
}

export class CallRecords {
  private readonly cdrs: CdrWriter;

  constructor(
    private readonly o: { readonly db: Db; readonly policy: CallPolicy; readonly log: Logger; readonly track: (p: Promise<void>) => void },
  ) {
    this.cdrs = new CdrWriter(o.db);
  }

  /** A call the policy refused: closed at once, by the system, with its clause. */
  refused(cdr: CdrStart, refusal: { sipStatus: number; clause: string }): Promise<void> {
    return this.write(async () => {
      await this.cdrs.record({ ...cdr, callerId: null, allowed: false, clause: refusal.clause, sipStatus: refusal.sipStatus, endedAt: cdr.startedAt, hangupBy: 'system', endReason: 'refused' });
    });
  }

  /** An allowed call nothing could take (no binding, no trunk): closed at once, its admission released. */
  async unavailable(cdr: CdrStart, status: number, admission: string | undefined, at: Date): Promise<void> {
    await this.write(async () => {
      await this.cdrs.record({ ...cdr, allowed: true, clause: null, sipStatus: status, endedAt: at, hangupBy: 'system', endReason: 'unavailable' });
    });
    if (admission !== undefined) await this.write(() => this.o.policy.ended(admission, at));
  }

  /** Opens the CDR of a call that starts ringing; null when it could not be written (the call goes on). */
  async open(cdr: CdrStart): Promise<string | null> {
    return (await this.write(() => this.cdrs.open({ ...cdr, allowed: true, clause: null }))) ?? null;
  }

  answered(call: Call, at: Date): void {
    // The CDR and the policy hear it at the same time (the writer keeps a CDR's own writes in order).
    this.queue(call, async () => {
      await together(call.cdrId === null ? undefined : this.cdrs.answer(call.cdrId, at), call.admission === undefined ? undefined : this.o.policy.answered(call.admission, at));
    });
  }

  ended(call: Call, how: CallEnd, endedAt: Date): void {
    const answeredAt = call.answeredAt ?? null;
    this.queue(call, async () => {
      const end = { endedAt, answeredAt, sipStatus: answeredAt === null ? how.status : 200, hangupBy: how.hangupBy, endReason: how.reason };
      await together(call.cdrId === null ? undefined : this.cdrs.close(call.cdrId, end), call.admission === undefined ? undefined : this.o.policy.ended(call.admission, endedAt));
    });
  }

  /**
   * Runs `fn` after the call's earlier writes (answer before end), tracked, failures logged.
   * The chain is kept on the call rather than in a WeakMap: its entries are ephemerons, which
   * every garbage collection must trace (issue #4). The first write starts at once.
   */
  private queue(call: Call, fn: () => Promise<void>): void {
    const next = (call.records === undefined ? fn() : call.records.then(fn)).catch((e: unknown) => this.o.log.error({ err: e, callId: call.callId }, 'CDR or policy hook failed'));
    call.records = next;
    this.o.track(next);
  }

  private async write<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      this.o.log.error({ err: e }, 'CDR or policy hook failed');
      return undefined;
    }
  }
}
