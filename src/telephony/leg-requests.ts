/**
 * The requests and responses the B2BUA builds on either leg of a call: in-dialog
 * requests (ACK, BYE, re-INVITE, UPDATE, INFO) on the caller's dialog (our To tag) or
 * on a branch's dialog (the callee's To tag from its 2xx), and responses to the caller.
 */
import { type Content, type Endpoint, type Header, type NameAddr, type SipRequest, type SipResponse, type Transport, buildRequest, buildResponse } from '../sip/index.ts';
import { type Branch, type Call, contentOf, headerValue, hostPort, nameAddr } from './call-legs.ts';

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
    const answer = branch.answer!;
    const contact = answer.contact.find((c) => !c.star);
    const local = this.local(branch.transport);
    return buildRequest({
      method,
      uri: contact?.uri ?? branch.invite.uri,
      from: branch.invite.from,
      to: answer.to, // the typed view of its To header, tag included
      callId: branch.callId,
      cseq,
      via: { transport: branch.transport.protocol, host: local.address, port: local.port, rport: true },
      ...this.rest(branch.transport, method, extra),
    });
  }

  /** A request on the caller's dialog (our To tag, its From). */
  onCaller(call: Call, method: string, cseq: number, extra: Extra = {}): SipRequest {
    const transport = call.source.transport;
    const local = this.local(transport);
    const target = call.invite.contact.find((c) => !c.star);
    return buildRequest({
      method,
      uri: target?.uri ?? call.invite.from.uri,
      from: nameAddr(`${headerValue(call.invite, 'To')};tag=${call.aTag}`),
      to: call.invite.from,
      callId: call.invite.callId,
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
    return buildResponse(call.invite, status, { toTag: call.aTag, headers, ...(content === undefined ? {} : { content }) });
  }

  private rest(transport: Transport, method: string, extra: Extra): { contact?: NameAddr; headers?: Header[]; content?: Content } {
    return {
      ...(method === 'ACK' || method === 'BYE' || method === 'CANCEL' ? {} : { contact: this.contact(transport) }),
      ...(extra.headers === undefined ? {} : { headers: extra.headers }),
      ...(extra.content === undefined ? {} : { content: extra.content }),
    };
  }
}
