/**
 * In-dialog requests inside an established call (RFC 3261 §14 re-INVITE, RFC 3311
 * UPDATE, RFC 6086 INFO): the B2BUA sends the same method on the other leg with that
 * leg's dialog identifiers and its own CSeq, and answers the originator with the other
 * side's final status and body. A 2xx to a re-INVITE is resent over UDP until the
 * originator's ACK, which is then relayed (with its body, if the offer came in the 2xx).
 */
import type { Logger } from 'pino';
import { type Header, type ServerTransaction, type SipRequest, type SipResponse, type Timers, type TransactionLayer, buildResponse, formatNameAddr, serializeMessage } from '../sip/index.ts';
import { type Call, Resend, contentOf } from './call-legs.ts';
import type { LegRequests } from './leg-requests.ts';

export interface RelayDeps {
  readonly layer: TransactionLayer;
  readonly legs: LegRequests;
  readonly log: Logger;
  /** For the RFC 3261 §13.3.1.4 2xx retransmission over unreliable transports. */
  readonly timers: Timers;
}

/** Headers of the originator's request that mean something to the other side too. */
const RELAYED = new Set(['supported', 'info-package', 'event', 'recv-info']);

export function relayInDialog(d: RelayDeps, call: Call, side: 'a' | 'b', req: SipRequest, tx: ServerTransaction): void {
  const winner = call.winner!;
  const content = contentOf(req);
  const headers: Header[] = req.headers.filter((h) => RELAYED.has(h.name.toLowerCase()));
  const extra = { headers, content };
  const out = side === 'a' ? d.legs.onBranch(winner, req.method, ++winner.cseq, extra) : d.legs.onCaller(call, req.method, ++call.aCseq, extra);
  const [transport, destination] = side === 'a' ? [winner.transport, winner.destination] : [call.source.transport, call.source.remote];
  const origin = side === 'a' ? call.source.transport : winner.transport;
  const back = (res: SipResponse): SipResponse => {
    const body = contentOf(res);
    return buildResponse(req, res.status, {
      reason: res.reason,
      headers: res.status >= 200 && res.status < 300 ? [{ name: 'Contact', value: formatNameAddr(d.legs.contact(origin)) }] : [],
      ...(body === undefined ? {} : { content: body }),
    });
  };
  d.layer.sendRequest(out, transport, destination, {
    onResponse: (res) => {
      if (res.status === 100) return;
      if (req.method !== 'INVITE' || res.status < 200 || res.status >= 300) {
        tx.respond(back(res));
        return;
      }
      if (call.pendingAck?.cseq === req.cseq.seq) return; // a retransmitted 2xx: our ACK is owed already
      call.pendingAck = {
        from: side,
        cseq: req.cseq.seq,
        send: (body) => {
          const ack = side === 'a' ? d.legs.onBranch(winner, 'ACK', out.cseq.seq, { content: body }) : d.legs.onCaller(call, 'ACK', out.cseq.seq, { content: body });
          transport.send(serializeMessage(ack), destination).catch((e: unknown) => d.log.debug({ err: e }, 'SIP send failed'));
        },
        resend: undefined,
      };
      const ok = back(res);
      tx.respond(ok);
      call.pendingAck.resend = Resend.over(origin, d.timers, () => tx.respond(ok), () => call.pendingAck?.cseq !== req.cseq.seq || call.state !== 'answered');
    },
    onTimeout: () => tx.respond(buildResponse(req, 408)),
    onTransportError: () => tx.respond(buildResponse(req, 503)),
  });
}
