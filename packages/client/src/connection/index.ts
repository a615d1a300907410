/** Bulk-data connections: `w.connect()`, the connector contract and its implementations. */
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
} from './types.js';
export { connect, peerConnectInfo, wormholeSignalling, type ConnectOptions } from './connect.js';
export { advertiseConnect, CONNECT_V1 } from './advertise.js';
export { webrtcConnector, hasWebRtc, WEBRTC_V1, type WebRtcOptions, type RTCPeerConnectionConstructor } from './webrtc/connector.js';
export { DEFAULT_WATERMARKS, type Watermarks } from './webrtc/channel.js';
export { transitMuxConnector, MUX_V1, type RelayOptions } from './transit.js';
export { memoryConnector, MemoryHub } from './memory.js';
export { MuxConnection, memoryPipePair, memoryConnectionPair, type MessagePipe } from './mux.js';
