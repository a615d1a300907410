/**
 * @burrow/client/testing — helpers for tests of code built on Burrow:
 * in-memory mailboxes, connection pairs and hubs, and the connectors'
 * internals. Not part of the happy path; kept out of the main entry so its
 * API stays readable.
 */
export {};
// Connections without a network: in-memory pipes, pairs and a hub for the memory connector.
export { memoryConnector, MemoryHub } from './connection/memory.js';
export { memoryPipePair, memoryConnectionPair } from './connection/mux.js';
// The connectors behind w.connect(), to drive one directly over your own signalling.
export { webrtcConnector } from './connection/webrtc/connector.js';
export { transitMuxConnector } from './connection/transit.js';
export { directTcp, DIRECT_TRANSIT_PURPOSE } from './connection/direct.js';
export { wormholeSignalling } from './connection/connect.js';
export type { Connector, ConnectorContext, ConnectorFactory, Signalling } from './connection/types.js';
// The Transit connector (file transfer and the mux-v1 fallback) and its connection.
export { TransitConnector, type TransitConnectorInit } from './transit/connector.js';
export { TransitConnection, type TransitKind } from './transit/connection.js';
// An in-memory mailbox: the real server core (@burrow/protocol/server) behind a MailboxTransport, with test hooks.
export { MemoryMailbox, type MemoryNameplate, type MemoryMailboxRecord, type CloseRecord, type PeerMessage } from './transports/memory-mailbox.js';
export { MemoryTransportServer, MemoryConnection, lowestFirstRandom, type ClientFrame, type Interceptor, type MemoryTransportOptions } from './transports/memory.js';
