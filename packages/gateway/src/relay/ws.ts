/**
 * The transit relay over WebSocket, for browsers: binary frames are a byte
 * stream exactly like a TCP connection's (the first bytes are the handshake
 * line; the relay's answers "ok\n", "bad handshake\n", "impatient\n" come
 * back as binary frames). Text frames are refused (close 1003).
 *
 * The upgrade is answered here (./ws-handshake.ts) and each connection's
 * frames are read and written by ./ws-connection.ts, not by the `ws`
 * library: the relay's data path must not allocate or copy per frame.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@burrow/protocol';
import { refuseUpgrade, remoteAddress } from '../mailbox/ws.js';
import type { TransitRelay } from './relay.js';
import { RelayWebSocketConnection } from './ws-connection.js';
import { answerUpgrade } from './ws-handshake.js';

export interface RelayWebSocketOptions {
  readonly logger?: Logger;
  /** Largest inbound frame (default 1 MiB; a message may span any number of frames). */
  readonly maxFrameBytes?: number;
  /** How long a close may wait for the client's close frame before the connection is cut (default 5 s). */
  readonly closeTimeoutMs?: number;
}

export class RelayWebSocketServer {
  readonly #relay: TransitRelay;
  readonly #logger: Logger | undefined;
  readonly #maxFrameBytes: number;
  readonly #closeTimeoutMs: number | undefined;
  readonly #connections = new Set<RelayWebSocketConnection>();

  constructor(relay: TransitRelay, options: RelayWebSocketOptions = {}) {
    this.#relay = relay;
    this.#logger = options.logger;
    this.#maxFrameBytes = options.maxFrameBytes ?? 1 << 20;
    this.#closeTimeoutMs = options.closeTimeoutMs;
  }

  /** Hand an HTTP upgrade for the relay path to this server; `address`: the client's (default the TCP peer's). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, address = remoteAddress(req)): void {
    const admitted = this.#relay.admit(address);
    if (!admitted.ok) {
      this.#logger?.warn?.('relay.refused-connection', { kind: 'ws', address, reason: admitted.reason, limit: admitted.limit });
      refuseUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    if (!socket.readable || !socket.writable) {
      socket.destroy(); // gone during the upgrade: nothing to attach
      return;
    }
    const answer = answerUpgrade(req.method, req.headers);
    if (!answer.ok) {
      this.#logger?.debug?.('relay.bad-upgrade', { address, status: answer.status });
      refuseUpgrade(socket, answer.status, answer.text);
      return;
    }
    const conn: RelayWebSocketConnection = new RelayWebSocketConnection(this.#relay, socket, head, answer.response, {
      address,
      maxFrameBytes: this.#maxFrameBytes,
      ...(this.#closeTimeoutMs !== undefined ? { closeTimeoutMs: this.#closeTimeoutMs } : {}),
      ...(this.#logger ? { logger: this.#logger } : {}),
      onClosed: () => this.#connections.delete(conn),
    });
    this.#connections.add(conn);
  }

  close(): void {
    for (const conn of this.#connections) conn.terminate();
    this.#connections.clear();
  }
}
