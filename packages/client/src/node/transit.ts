/**
 * Transit options for Node in one call: TCP dialing, a TCP listener and a
 * WebSocket dialer (through `ws`) for WebSocket relays; libsodium for the
 * records; and SHA-256 from node:crypto for transfer hashing.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import type { Hasher } from '@burrow/protocol';
import type { TransitOptions } from '../transit/connector.js';
import { webSocketDialer, type WebSocketDialerOptions } from '../transit/websocket.js';
import { nodeSecretBox } from './sodium.js';
import { tcpDialer, tcpListen, type TcpListenOptions } from './tcp.js';

export interface NodeTransitOptions extends Omit<TransitOptions, 'dialers' | 'listen'> {
  /** Do not listen for direct connections (relay only, or dial out only). */
  noListen?: boolean;
  listen?: TcpListenOptions;
}

/** The `ws` WebSocket class, typed as the dialers and transports take it. */
export const NodeWebSocket = WebSocket as unknown as NonNullable<WebSocketDialerOptions['WebSocket']>;

/**
 * Transit options for Node: TCP dialing, a listener unless `noListen`, and a
 * WebSocket dialer (via `ws`) for WebSocket relays; records sealed by
 * libsodium (noble if `sodium-native` does not load).
 *
 * @example
 * await sendFile(w, source, { transit: nodeTransit({ relays: ['tcp:127.0.0.1:4001'] }) });
 */
export function nodeTransit(options: NodeTransitOptions = {}): TransitOptions {
  const { noListen, listen, ...rest } = options;
  return {
    ...rest,
    secretBox: rest.secretBox ?? nodeSecretBox(rest.logger),
    dialers: {
      tcp: tcpDialer(),
      websocket: webSocketDialer({ WebSocket: NodeWebSocket }),
    },
    ...(noListen ? {} : { listen: tcpListen(listen ?? {}) }),
  };
}

/** SHA-256 from node:crypto (several times faster than pure JS) for `createHash`. */
export function nodeSha256(): Hasher {
  const h = createHash('sha256');
  return { update: (d) => void h.update(d), hexDigest: () => h.digest('hex') };
}
