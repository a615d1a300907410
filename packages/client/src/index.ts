/**
 * @burrow/client — magic-wormhole in browsers and Node.
 *
 *   import { createWormhole } from '@burrow/client';
 *   const w = await createWormhole({ mailbox: 'ws://127.0.0.1:4000/v1' });
 *   const code = await w.allocateCode();
 *   await w.sendText('hello');
 *   await w.close();
 *
 * This entry is the happy path and its types: the wormhole, text, files,
 * connect() and its options, errors, codes, mailbox transports and OPFS
 * sinks. Test helpers (in-memory pairs and hubs, the connectors and the
 * Transit connector) are in `@burrow/client/testing`; Node adapters in
 * `@burrow/client/node`.
 */
export { createWormhole, Wormhole, DEFAULT_APPID, MAX_MESSAGE_SIZE } from './wormhole.js';
export type { WormholeOptions, CallOptions, WormholeStatus } from './wormhole.js';
export type { Logger, RandomSource } from '@burrow/protocol';
export { systemRandom } from './random.js';
export { webSocketTransport } from './transports/websocket.js';
export type { WebSocketConstructor, WebSocketLike } from './transports/websocket.js';
export type { MailboxTransport, FrameHandlers, FrameConnection } from './transports/types.js';
export { sendText, receiveText, parseAppMessage } from './app-messages.js';
export { WormholeError, isWormholeError, parseCode, completeCode, generateCode, toHex, fromHex } from '@burrow/protocol';
export type { WormholeErrorCode, Blame } from '@burrow/protocol';
export type { TransitOptions } from './transit/connector.js';
export { webSocketDialer } from './transit/websocket.js';
export type { WebSocketDialerOptions } from './transit/websocket.js';
export { httpStreamDialer } from './transit/http-stream.js';
export type { HttpStreamDialerOptions } from './transit/http-stream.js';
export { webTransportDialer } from './transit/webtransport.js';
export type { WebTransportDialerOptions } from './transit/webtransport.js';
export type { ByteChannel, DialOptions, TcpDialer, WebSocketDialer, WebTransportDialer, TransitDialers, TransitListen, TransitListener } from './transit/types.js';
export { sendFile, sendDirectory } from './transfer/send.js';
export { receiveOffer } from './transfer/receive.js';
export type { IncomingOffer, MessageOffer, FileOffer, DirectoryOffer, FilesOffer, ReceiveOfferOptions } from './transfer/receive.js';
export { sendFiles } from './transfer/files/send.js';
export type {
  FilesItem,
  SendItem,
  FilesSink,
  PartialFile,
  OfferedFile,
  FilesProgress,
  FilesOptions,
  SendFilesOptions,
  ReceiveFilesOptions,
  FileResult,
  FilesResult,
} from './transfer/files/types.js';
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
  BatchWriter,
  FileSink,
} from './transfer/types.js';
export { WRITE_BATCH } from './transfer/types.js';
export { TRANSIT_KEY_PURPOSE, RELAYS_WELCOME_KEY, relaysFromWelcome } from './transfer/common.js';
export { ICE_WELCOME_KEY, iceServersFromWelcome } from './connection/ice-welcome.js';
export { parseRelayLocation } from '@burrow/protocol';
export type { RelayHint, TcpHint, TransitHints, Hasher } from '@burrow/protocol';
// connect(): listed module by module, never through a barrel, so that
// connect() itself (connection/connect.ts, WebRTC, mux-v1, Transit) stays out
// of the static graph: `w.connect()` loads it on first use. Only types and
// the small pieces below are imported statically.
export type { Connection, ConnectionKind, ConnectionStats, DuplexStream, ConnectRole } from './connection/types.js';
export type { ConnectOptions } from './connection/connect.js';
export type { WebRtcOptions } from './connection/webrtc/connector.js';
export type { RTCPeerConnectionConstructor, DirectTcp, DirectTcpOptions } from './connection/advertise.js';
export type { RelayOptions } from './connection/transit.js';
export { DEFAULT_WATERMARKS, type Watermarks } from './connection/webrtc/channel.js';
/** A `Connection` over your own ordered message pipe (mux-v1), e.g. a WebSocket to a local agent. */
export { MuxConnection, type MuxConnectionInit, type MessagePipe } from './connection/mux.js';
export { opfsFileSink, opfsDirectorySink } from './browser/opfs.js';
export type { OpfsFileSink, OpfsDirectorySink } from './browser/opfs.js';
export { opfsFilesSink, type OpfsFilesSink, type OpfsFilesSinkOptions, type OpfsPartial, type OpfsReceived } from './browser/opfs-files.js';
export { webTransportTransport, type WebTransportTransportOptions, type WebTransportConstructor, type WebTransportLike, type WebTransportInit, type WebTransportHashLike, type WebTransportBidiStreamLike } from './transports/webtransport.js';
