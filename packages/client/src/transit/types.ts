/**
 * The platform seam of Transit: byte channels and how to get them. The
 * connector never touches a socket API; Node injects TCP dialers and a
 * listener (`@burrow/client/node`), browsers use the WebSocket
 * dialer of this package.
 */

/** A bidirectional byte stream (a TCP socket, a WebSocket to a relay, …). */
export interface ByteChannel {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Tear down at once (both directions); idempotent. */
  close(): void;
  /**
   * Optional fast path past `writable` (Node TCP): hand `chunk` to the
   * transport. Resolves once the channel holds no reference to it any more
   * (the caller may then reuse the buffer); rejects if the channel failed.
   * Used only once nothing written through `writable` is pending.
   */
  send?(chunk: Uint8Array): Promise<void>;
}

export interface DialOptions {
  signal?: AbortSignal;
}

/** Open a TCP connection. */
export type TcpDialer = (host: string, port: number, options: DialOptions) => Promise<ByteChannel>;
/** Open a WebSocket (binary messages carry the bytes). */
export type WebSocketDialer = (url: string, options: DialOptions) => Promise<ByteChannel>;
/** Open a WebTransport session to a relay's `https://…/relay` (one bidirectional stream carries the bytes). */
export type WebTransportDialer = (url: string, options: DialOptions) => Promise<ByteChannel>;

export interface TransitDialers {
  tcp?: TcpDialer;
  websocket?: WebSocketDialer;
  /** For relays announced with a WebTransport side (`webTransportDialer()`); none by default. */
  webtransport?: WebTransportDialer;
}

/** A listening socket for direct connections. */
export interface TransitListener {
  /** Where peers can reach us (our direct-tcp-v1 hints). */
  readonly hints: readonly { hostname: string; port: number }[];
  /** Stop accepting; idempotent. Accepted channels stay open. */
  close(): void;
}

/** Start listening; every accepted connection is handed to `onConnection`. */
export type TransitListen = (onConnection: (channel: ByteChannel, description: string) => void) => Promise<TransitListener>;
