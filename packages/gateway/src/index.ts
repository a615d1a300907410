/**
 * @burrow/gateway — Node only: a magic-wormhole mailbox server and transit
 * relay (TCP, WebSocket, WebTransport) in one process, compatible with the
 * 0.12 CLI, the Debian mailbox server 0.4.1 and transit relay 0.2.1.
 *
 *   import { startGateway } from '@burrow/gateway';
 *   const gw = await startGateway({ port: 4000, transitPort: 4001 });
 *   // wormhole --relay-url gw.url --transit-helper gw.transitHint send …
 *
 * The protocol it serves (MailboxCore, MailboxRules, frames, the stored
 * model, the relay handshake) is sans-I/O in `@burrow/protocol/server`; this
 * package adds sockets, timers, stores and limits.
 */
export { startGateway, type Gateway, type GatewayOptions, type GatewayStats } from './gateway.js';

export { MailboxService, DEFAULT_CONNECTION_LIMITS, DEFAULT_MAILBOX_SERVICE_LIMITS, ERR_STORE_FAILED } from './mailbox/service.js';
export type { MailboxServiceOptions, MailboxServiceLimits, MailboxServiceStats, MailboxPeer, AttachedPeer } from './mailbox/service.js';
export { MemoryMailboxStore, StoreMirror, type MailboxStore } from './mailbox/store.js';
export { SqliteMailboxStore, SQLITE_FILE, type SqliteMailboxStoreOptions } from './mailbox/sqlite-store.js';
export { DurableOutbox, type OutboxEntry, type OutboxOptions, type StoreHealth } from './mailbox/outbox.js';
export type { RedisEngineOptions } from './mailbox/redis-engine.js';
export { LocalEngine, type MailboxEngine, type EngineEvents, type EngineOutput } from './mailbox/engine.js';
export { MailboxWebSocketServer } from './mailbox/ws.js';
export { serveMailboxSession, FrameDecoder, encodeFrame, MAX_WRITE } from './mailbox/webtransport.js';
export type { WebTransportSessionLike, BidiStreamLike } from './mailbox/webtransport.js';

export { TransitRelay } from './relay/relay.js';
export { DEFAULT_RELAY_LIMITS, type RelayLimits } from './relay/limits.js';
export type { RelayEndpoint, RelayEndpointEvents } from './relay/endpoint.js';
export type { RelayStats, TransitRelayOptions } from './relay/relay.js';
export { TokenMatcher } from './relay/matcher.js';
export { listenTcpRelay, type TcpRelayListener } from './relay/tcp.js';
export { RelayWebSocketServer } from './relay/ws.js';
export { serveRelaySession } from './relay/webtransport.js';

export { TrustedProxies, forwardedFor } from './trust-proxy.js';
export { parseProxyHeader, PROXY_V1_MAX_BYTES, type ProxyHeader, type ProxyParse, type ProxyTlv, type ProxyEndpoint } from './proxy-protocol.js';
