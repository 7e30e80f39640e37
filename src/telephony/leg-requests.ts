/**
 * The requests and responses the B2BUA builds on either leg of a call: in-dialog
 * requests (ACK, BYE, re-INVITE, UPDATE, INFO) on the caller's dialog (our To tag) or
 * on a branch's dialog (the callee's To tag from its 2xx), and responses to the caller.
 */
import { type Content, type Endpoint, type Header, type NameAddr, type SipRequest, type SipResponse, type Transport, buildRequest, buildResponse, fromTag, toTag } from '../sip/index.ts';
import { type Branch, type Call, type LegDialog, answeredDialog, contentOf, headerValue, hostPort, inviteOf, nameAddr } from './call-legs.ts';

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO';

export interface Extra {
  readonly headers?: Header[];
  readonly content?: Content | undefined;
}

export class LegRequests {
  constructor(private readonly domain: string) {}

  /** Our address on a transport (the domain when bound to every interface). */
  local(transport: Transport): Endpoint {
    const { address, port } = transport.local;
    return address === '0.0.0.0' || address === '::' ? { address: this.domain, port } : { address, port };
  }

  contact(transport: Transport): NameAddr {
    return nameAddr(`<sip:b2bua@${hostPort(this.local(transport))};transport=${transport.protocol.toLowerCase()}>`);
  }

  /** A request on a branch's dialog. */
  onBranch(branch: Branch, method: string, cseq: number, extra: Extra = {}): SipRequest {
    return this.inDialog(answeredDialog(branch), branch.transport, method, cseq, extra);
  }

  /** A request on the caller's dialog (our To tag, its From). */
  onCaller(call: Call, method: string, cseq: number, extra: Extra = {}): SipRequest {
    return this.inDialog(answeredDialog(call), call.source.transport, method, cseq, extra);
  }

  private inDialog(d: LegDialog, transport: Transport, method: string, cseq: number, extra: Extra): SipRequest {
    const local = this.local(transport);
    return buildRequest({
      method,
      uri: d.target,
      from: d.local,
      to: d.remote,
      callId: d.callId,
      cseq,
      via: { transport: transport.protocol, host: local.address, port: local.port, rport: true },
      ...this.rest(transport, method, extra),
    });
  }

  /** A response to the caller's INVITE carrying the callee's body (SDP), our To tag and Contact. */
  toCaller(call: Call, status: number, res: SipResponse): SipResponse {
    const content = contentOf(res);
    const headers: Header[] = [{ name: 'Contact', value: `<sip:b2bua@${hostPort(this.local(call.source.transport))};transport=${call.source.transport.protocol.toLowerCase()}>` }];
    if (status >= 200) headers.push({ name: 'Allow', value: ALLOW });
    return buildResponse(inviteOf(call), status, { toTag: call.aTag, headers, ...(content === undefined ? {} : { content }) });
  }

  private rest(transport: Transport, method: string, extra: Extra): { contact?: NameAddr; headers?: Header[]; content?: Content } {
    return {
      ...(method === 'ACK' || method === 'BYE' || method === 'CANCEL' ? {} : { contact: this.contact(transport) }),
      ...(extra.headers === undefined ? {} : { headers: extra.headers }),
      ...(extra.content === undefined ? {} : { content: extra.content }),
    };
  }
}

/** The dialog a 2xx to our INVITE makes on a branch: their To (tag included) and Contact, our From. */
export function branchDialog(invite: SipRequest, answer: SipResponse): LegDialog {
  return {
    callId: invite.callId,
    local: invite.from,
    localTag: fromTag(invite)!,
    remote: answer.to, // the typed view of its To header, tag included
    remoteTag: toTag(answer),
    target: answer.contact.find((c) => !c.star)?.uri ?? invite.uri,
  };
}

/** The caller's dialog once we answer its INVITE: its From and Contact, our To with our tag. */
export function callerDialog(invite: SipRequest, aTag: string): LegDialog {
  return {
    callId: invite.callId,
    local: nameAddr(`${headerValue(invite, 'To')};tag=${aTag}`),
    localTag: aTag,
    remote: invite.from,
    remoteTag: fromTag(invite),
    target: invite.contact.find((c) => !c.star)?.uri ?? invite.from.uri,
  };
}
