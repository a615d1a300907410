/**
 * @burrow/gateway — Node only: a magic-wormhole mailbox server and transit
 * relay (TCP, WebSocket, WebTransport) in one process, compatible with the
 * 0.12 CLI, the Debian mailbox server 0.4.1 and transit relay 0.2.1.
 *
 *   import { startGateway } from '@burrow/gateway';
 *   const gw = await startGateway({ port: 4000, transitPort: 4001 });
 *   // wormhole --relay-url gw.url --transit-helper gw.transitHint send …
 */
export { startGateway, type Gateway, type GatewayOptions, type GatewayStats } from './gateway.js';

export { MailboxCore, DEFAULT_SESSION_LIMITS } from './mailbox/server.js';
export type { ConnId, MailboxCoreOptions, MailboxEffect, MailboxLimits, SessionLimits, WelcomeOptions } from './mailbox/server.js';
export { MailboxRules, MailboxRuleError, DEFAULT_RULE_LIMITS } from './mailbox/rules.js';
export type { RuleLimits, RulesStats } from './mailbox/rules.js';
export { parseClientFrame, encodeServerFrame } from './mailbox/frames.js';
export type { ClientFrame, ServerFrame } from './mailbox/frames.js';
export { MailboxService, DEFAULT_CONNECTION_LIMITS } from './mailbox/service.js';
export type { MailboxServiceOptions, MailboxServiceLimits, MailboxServiceStats, MailboxPeer, AttachedPeer } from './mailbox/service.js';
export { MemoryMailboxStore, StoreMirror, type MailboxStore } from './mailbox/store.js';
export { JsonFileMailboxStore, type JsonFileMailboxStoreOptions } from './mailbox/file-store.js';
export type { StoreChange, StoredState, StoredNameplate, StoredMailbox, StoredMessage } from './mailbox/model.js';
export { MailboxWebSocketServer } from './mailbox/ws.js';
export { serveMailboxSession, FrameDecoder, encodeFrame, MAX_WRITE } from './mailbox/webtransport.js';
export type { WebTransportSessionLike, BidiStreamLike } from './mailbox/webtransport.js';

export { TransitRelay, DEFAULT_RELAY_LIMITS } from './relay/relay.js';
export type { RelayEndpoint, RelayEndpointEvents, RelayLimits, RelayStats, TransitRelayOptions } from './relay/relay.js';
export { checkHandshake, type HandshakeResult } from './relay/handshake.js';
export { TokenMatcher } from './relay/matcher.js';
export { listenTcpRelay, type TcpRelayListener } from './relay/tcp.js';
export { RelayWebSocketServer } from './relay/ws.js';
export { serveRelaySession } from './relay/webtransport.js';
