/**
 * The SIP protocol stack (RFC 3261 and friends): what `src/telephony` may use.
 * Layers, bottom up: syntax → message model, parser, serializer → transports →
 * transactions; digest authentication beside them. Nothing here knows clients
 * or billing.
 */
export type { CSeq, Contact, NameAddr, Via } from './headers.ts';
export { canonicalName, formatNameAddr, formatVia, parseContacts, parseNameAddr, parseVia } from './headers.ts';
export type { Header, SipMessage, SipRequest, SipResponse } from './message.ts';
export {
  MAGIC_COOKIE,
  contactExpires,
  contactQ,
  fromTag,
  getExpires,
  getHeader,
  getHeaderValues,
  paramValue,
  toTag,
  topVia,
} from './message.ts';
export type { ParseError, ParseOptions, ParseResult } from './parser.ts';
export { parseMessage } from './parser.ts';
export { serializeMessage } from './serializer.ts';
export type { FrameEvent, FramerOptions } from './framer.ts';
export { StreamFramer } from './framer.ts';
export type { OtherUri, SipUri, TelUri, Uri } from './uri.ts';
export { formatUri, isSipUri, isTelUri, parseUri, unescape, uriEquals } from './uri.ts';
export type { Content, RequestOptions, ResponseBytesOptions, ResponseOptions } from './builders.ts';
export {
  buildAckForNon2xx,
  buildCancel,
  buildRequest,
  buildResponse,
  newBranch,
  newCallId,
  newTag,
  reasonPhrase,
  replyToParseError,
  responseBytes,
  statelessTag,
} from './builders.ts';
export type { Refusal } from './semantics.ts';
export { checkRequest } from './semantics.ts';
export type {
  ChallengeOptions,
  Challenges,
  DigestAlgorithm,
  DigestCredentials,
  Ha1Lookup,
  NonceCountStore,
  NonceOptions,
  VerifyOptions,
  VerifyResult,
} from './digest.ts';
export { MemoryNonceCountStore, challenger, digestResponse, ha1, makeChallenges, parseAuthorization, verify } from './digest.ts';
export type { Endpoint, SendDone, Source, Transport, TransportDelegate, TransportProtocol } from './transport.ts';
export { postOn } from './transport.ts';
export type { UdpOptions } from './udp.ts';
export { UdpTransport } from './udp.ts';
export { ThreadedUdpTransport } from './udp-thread.ts';
export type { TcpOptions } from './tcp.ts';
export { TcpTransport } from './tcp.ts';
export type { CancelTimer, Timers } from './timers.ts';
export { ManualTimers, TimerWheel, systemTimers } from './timers.ts';
export type { TimerValues } from './transaction-base.ts';
export { DEFAULT_TIMER_VALUES } from './transaction-base.ts';
export type { ClientTransaction, ClientTransactionDelegate } from './client-transaction.ts';
export type { ServerTransaction, ServerTransactionDelegate } from './server-transaction.ts';
export { ServerInviteTransaction, ServerNonInviteTransaction } from './server-transaction.ts';
export type { TransactionLayerOptions, TransactionUser } from './transactions.ts';
export { TransactionLayer, isRfc3261Branch } from './transactions.ts';
