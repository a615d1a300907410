/**
 * @burrow/client — magic-wormhole in browsers and Node.
 *
 *   import { createWormhole } from '@burrow/client';
 *   const w = await createWormhole({ mailbox: 'ws://127.0.0.1:4000/v1' });
 *   const code = await w.allocateCode();
 *   await w.sendText('hello');
 *   await w.close();
 */
export { createWormhole, Wormhole, DEFAULT_APPID, MAX_MESSAGE_SIZE } from './wormhole.js';
export type { WormholeOptions, CallOptions, WormholeStatus } from './wormhole.js';
export type { Logger, RandomSource } from '@burrow/protocol';
export { systemRandom } from './random.js';
export { webSocketTransport } from './transport.js';
export type { MailboxTransport, FrameHandlers, FrameConnection, WebSocketConstructor, WebSocketLike } from './transport.js';
export { sendText, receiveText, parseAppMessage } from './text.js';
export { WormholeError, isWormholeError, parseCode, completeCode, generateCode, toHex, fromHex } from '@burrow/protocol';
export type { WormholeErrorCode, Blame } from '@burrow/protocol';
export { TransitConnector } from './transit/connector.js';
export type { TransitOptions, TransitConnectorInit } from './transit/connector.js';
export { TransitConnection } from './transit/connection.js';
export type { TransitKind } from './transit/connection.js';
export { webSocketDialer } from './transit/websocket.js';
export type { WebSocketDialerOptions } from './transit/websocket.js';
export type { ByteChannel, DialOptions, TcpDialer, WebSocketDialer, TransitDialers, TransitListen, TransitListener } from './transit/types.js';
export { sendFile, sendDirectory } from './transfer/send.js';
export { receiveOffer } from './transfer/receive.js';
export type { IncomingOffer, MessageOffer, FileOffer, DirectoryOffer, ReceiveOfferOptions } from './transfer/receive.js';
export type {
  FileSource,
  DirectoryEntry,
  DirectorySource,
  DirectorySink,
  TransferProgress,
  TransferOptions,
  SendOptions,
  SendDirectoryOptions,
  TransferResult,
} from './transfer/types.js';
export { TRANSIT_KEY_PURPOSE, RELAYS_WELCOME_KEY, relaysFromWelcome } from './transfer/common.js';
export { parseRelayLocation } from '@burrow/protocol';
export type { RelayHint, TcpHint, TransitHints, Hasher } from '@burrow/protocol';
export {
  webrtcConnector,
  transitMuxConnector,
  memoryConnector,
  MemoryHub,
  MuxConnection,
  memoryConnectionPair,
  memoryPipePair,
  wormholeSignalling,
  DEFAULT_WATERMARKS,
} from './connection/index.js';
export type {
  Connection,
  ConnectionKind,
  ConnectionStats,
  DuplexStream,
  ConnectRole,
  Connector,
  ConnectorContext,
  ConnectorFactory,
  Signalling,
  ConnectOptions,
  WebRtcOptions,
  RelayOptions,
  RTCPeerConnectionConstructor,
  Watermarks,
  MessagePipe,
} from './connection/index.js';
export { opfsFileSink, opfsDirectorySink } from './browser/opfs.js';
export type { OpfsFileSink, OpfsDirectorySink } from './browser/opfs.js';
export { webTransportTransport, type WebTransportTransportOptions, type WebTransportConstructor, type WebTransportLike, type WebTransportInit, type WebTransportHashLike, type WebTransportBidiStreamLike } from './transport-webtransport.js';
