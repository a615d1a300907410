/** The transit relay's admission caps, timeouts and backpressure watermarks, with their defaults. */

export interface RelayLimits {
  /** Relay connections at once (all transports). */
  readonly maxConnections: number;
  /** Relay connections at once from one address (IPv6: one /64). */
  readonly maxConnectionsPerAddress: number;
  /** Relay connections at once from one prefix (IPv4 /24, IPv6 /48). */
  readonly maxConnectionsPerPrefix: number;
  /** Time allowed for the handshake line after connecting (native clients send it at once). */
  readonly handshakeTimeoutMs: number;
  /** Time a connection may wait for its buddy after the handshake. */
  readonly lonelyTimeoutMs: number;
  /** A glued pair with no bytes either way for this long is closed. */
  readonly idleTimeoutMs: number;
  /** Pause a sender once its buddy has this many bytes queued… */
  readonly highWaterMark: number;
  /** …and resume it once the queue is down to this many. */
  readonly lowWaterMark: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxConnections: 2_000,
  maxConnectionsPerAddress: 100,
  maxConnectionsPerPrefix: 400,
  handshakeTimeoutMs: 5_000,
  lonelyTimeoutMs: 60_000,
  idleTimeoutMs: 10 * 60_000,
  highWaterMark: 1 << 20,
  lowWaterMark: 256 << 10,
};
