/**
 * The registrar (RFC 3261 §10.3): authenticated REGISTERs bind contacts to the
 * user's address-of-record in the persistent location service. Expires bounds
 * (default 3600 s, at most 7200 s, at least 60 s or 423 with Min-Expires),
 * `Contact: *` with Expires 0, the source address/port/transport kept for NAT
 * (RFC 3581), and the current bindings listed in the 200.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Clock } from '../kernel/clock.ts';
import {
  type Header,
  type SipRequest,
  type Source,
  contactExpires,
  contactQ,
  formatUri,
  getExpires,
  getHeader,
  isSipUri,
  unescape,
} from '../sip/index.ts';
import type { Authenticator } from './auth.ts';
import { type ContactUpdate, LocationWriter, type RegisteredBinding, activeBindings, aorFor } from './location.ts';

export interface ExpiresBounds {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export const DEFAULT_EXPIRES: ExpiresBounds = { default: 3600, min: 60, max: 7200 };

export interface RegistrarOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly authenticator: Authenticator;
  /** Our domain: addresses-of-record are `sip:username@domain`. */
  readonly domain: string;
  readonly expires?: ExpiresBounds;
  /** Most contacts one address-of-record may hold (20 by default); more → 403. */
  readonly maxBindings?: number;
}

/** A final response to a REGISTER, to be built from the request: status, reason (the usual phrase by default), extra headers. */
export interface RegisterReply {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: readonly Header[];
}

export class Registrar {
  private readonly expires: ExpiresBounds;
  /** Group commit: concurrent REGISTERs share a statement, each answered after its commit. */
  private readonly location: LocationWriter;

  constructor(private readonly o: RegistrarOptions) {
    this.expires = o.expires ?? DEFAULT_EXPIRES;
    this.location = new LocationWriter(o.db);
  }

  /**
   * The final response to a REGISTER, as its status, reason and extra headers: the SIP server
   * writes it straight from the request's headers (`responseBytes`, issue #4).
   */
  async handle(req: SipRequest, source: Source): Promise<RegisterReply> {
    const auth = await this.o.authenticator.check(req, source);
    if (auth.kind === 'challenge') return auth;
    const user = auth.credentials;
    // §10.3 step 5: the authenticated user may only register their own AOR.
    const toUser = isSipUri(req.to.uri) && req.to.uri.user !== undefined ? unescape(req.to.uri.user) : undefined;
    if (toUser !== user.username) {
      return { status: 403, reason: 'Forbidden (To does not match the authenticated user)' };
    }
    const aor = aorFor(user.username, this.o.domain);
    const now = this.o.clock.now();

    const star = req.contact.some((c) => c.star);
    const headerExpires = getExpires(req);
    if (star && (req.contact.length !== 1 || headerExpires !== 0)) {
      return { status: 400, reason: 'Bad Request (Contact: * needs Expires: 0 and no other contact)' };
    }
    const contacts: ContactUpdate[] = [];
    for (const c of req.contact) {
      if (c.star) continue;
      let expires = contactExpires(c) ?? headerExpires ?? this.expires.default;
      if (expires !== 0 && expires < this.expires.min) {
        return { status: 423, headers: [{ name: 'Min-Expires', value: String(this.expires.min) }] };
      }
      expires = Math.min(expires, this.expires.max);
      const q = contactQ(c);
      if (!Number.isFinite(q) || q < 0 || q > 1) return { status: 400, reason: 'Bad Request (q out of range)' };
      contacts.push({ uri: formatUri(c.uri), expires, q });
    }

    let bindings: RegisteredBinding[];
    if (!star && contacts.length === 0) {
      bindings = await activeBindings(this.o.db, aor, now); // a query (§10.2.3)
    } else {
      const outcome = await this.location.apply(
        {
          aor,
          clientId: user.clientId,
          userId: user.userId,
          callId: req.callId,
          cseq: req.cseq.seq,
          removeAll: star,
          contacts,
          source: { address: source.remote.address, port: source.remote.port, transport: source.transport.protocol },
          userAgent: getHeader(req, 'User-Agent')?.slice(0, 200) ?? null,
          maxBindings: this.o.maxBindings ?? 20,
        },
        now,
      );
      if (outcome.kind === 'out-of-order') {
        // §10.3 step 7 then the end of §10.3: the update is aborted and the request fails with 500.
        return { status: 500, reason: 'Server Internal Error (CSeq out of order)', headers: [{ name: 'Retry-After', value: '1' }] };
      }
      if (outcome.kind === 'too-many') return { status: 403, reason: 'Forbidden (too many registered contacts)' };
      bindings = outcome.bindings;
      // The record is built only when it is written (issue #4: one object per REGISTER at the usual level "error"/"warn").
      if (this.o.log.isLevelEnabled('info')) {
        this.o.log.info(
          { event: 'sip.register', aor, clientId: user.clientId, userId: user.userId, bindings: bindings.length, source: source.remote },
          'SIP registration updated',
        );
      }
    }
    const headers: Header[] = bindings.map((b) => ({ name: 'Contact', value: formatBinding(b, now) }));
    headers.push({ name: 'Date', value: now.toUTCString() });
    return { status: 200, headers };
  }
}

/** `<uri>;expires=N[;q=…]` for the 200 (§10.3 step 8). */
function formatBinding(b: RegisteredBinding, now: Date): string {
  const left = Math.max(0, Math.ceil((b.expiresAt.getTime() - now.getTime()) / 1000));
  return `<${b.contactUri}>;expires=${left}${b.q === 1 ? '' : `;q=${b.q}`}`;
}
