/**
 * The connection contract every connector honours (WebRTC data channels,
 * mux-v1 over Transit, in-memory), checked by one compliance suite
 * (packages/client/test/connection-compliance.ts).
 *
 *   const conn = await w.connect();
 *   const { readable, writable } = await conn.openStream();
 *   for await (const s of conn.incoming) { … }
 */
import type { ConnectRole } from '@burrow/protocol/webrtc';
import type { CallOptions } from '../wormhole.js';

/** Which path carries the bytes. */
export type ConnectionKind = 'webrtc' | 'relay' | 'direct';

/** One bidirectional byte stream. Close `writable` to half-close; abort it (with a reason) to reset. */
export interface DuplexStream {
  /** Unique among the connection's open streams; both ends see the same id (the data channel id, or the mux-v1 stream id). */
  readonly id: number;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** A snapshot from {@link Connection.getStats}. */
export interface ConnectionStats {
  readonly kind: ConnectionKind;
  /** Human-readable path, e.g. `host udp 127.0.0.1:40000 ⇄ host udp 127.0.0.1:40001` or `->relay:ws://…`. */
  readonly path: string;
  /** Local ICE candidate type of the selected pair (`host`, `srflx`, `prflx`, `relay`), WebRTC only. */
  readonly localCandidateType?: string;
  readonly remoteCandidateType?: string;
  /** Application payload bytes written to / read from all streams. */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Bytes per second since the previous `getStats()` (or since the connection opened). */
  readonly sendRate: number;
  readonly receiveRate: number;
  /** Application-level round trip over the connection, in ms (undefined if no answer within 1 s). */
  readonly rttMs: number | undefined;
  /** Streams currently open (either direction not finished). */
  readonly openStreams: number;
  /** ms since the connection opened. */
  readonly durationMs: number;
}

/** A bulk-data connection to the peer: many streams with backpressure. */
export interface Connection {
  readonly kind: ConnectionKind;
  /** Open a stream to the peer; it appears in the peer's {@link incoming}. */
  openStream(options?: CallOptions): Promise<DuplexStream>;
  /** The peer's streams, in the order it opened them. Ends when the connection closes; throws if it failed. */
  readonly incoming: AsyncIterable<DuplexStream>;
  getStats(options?: CallOptions): Promise<ConnectionStats>;
  /** Close everything now (open streams error with `Closed`); the peer sees a clean close. */
  close(reason?: string): Promise<void>;
  /** Resolves on a clean close (ours or the peer's); rejects with the failure otherwise. */
  readonly closed: Promise<void>;
}

/** Which side of the negotiation we are: decided by comparing the two wormhole sides. */
export type { ConnectRole } from '@burrow/protocol/webrtc';

/**
 * A connector's private conversation with its peer counterpart, carried as
 * encrypted wormhole messages `{"<namespace>": body}`. Bodies are JSON objects.
 */
export interface Signalling {
  send(body: Record<string, unknown>): void;
  /** The peer's next body in this namespace; rejects if the peer sent anything else. */
  next(options?: CallOptions): Promise<Record<string, unknown>>;
}

/** What a connector gets to establish one connection. */
export interface ConnectorContext {
  readonly role: ConnectRole;
  readonly signalling: Signalling;
  /** HKDF of the wormhole key (`w.deriveKey`). */
  deriveKey(purpose: string, length: number): Promise<Uint8Array>;
  readonly signal?: AbortSignal;
}

/**
 * The pluggable-transport shape: a factory takes its (opaque, connector
 * specific) config and returns a connector; the connector turns a
 * negotiated context into a {@link Connection}. Both peers run the same
 * connector; each one's signalling must end in a message the other side
 * reads last, so the wormhole message stream stays in step.
 */
export interface Connector {
  /** The wormhole message namespace and ability, e.g. `webrtc-v1`. */
  readonly name: string;
  connect(context: ConnectorContext): Promise<Connection>;
}
export type ConnectorFactory<Config> = (config: Config) => Connector;
