/**
 * The transit relay over WebSocket, for browsers: binary frames are a byte
 * stream exactly like a TCP connection's (the first bytes are the handshake
 * line; the relay's answers "ok\n", "bad handshake\n", "impatient\n" come
 * back as binary frames). Text frames are refused (close 1003).
 *
 * Backpressure: bytes handed to `ws.send` count as queued until its
 * callback says they reached the socket.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@burrow/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { refuseUpgrade, remoteAddress } from '../mailbox/ws.js';
import type { TransitRelay } from './relay.js';

export interface RelayWebSocketOptions {
  readonly logger?: Logger;
  /** Largest inbound frame (default 1 MiB). */
  readonly maxFrameBytes?: number;
}

export class RelayWebSocketServer {
  readonly #relay: TransitRelay;
  readonly #logger: Logger | undefined;
  readonly #wss: WebSocketServer;

  constructor(relay: TransitRelay, options: RelayWebSocketOptions = {}) {
    this.#relay = relay;
    this.#logger = options.logger;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes ?? 1 << 20,
      perMessageDeflate: false,
      clientTracking: true,
    });
  }

  /** Hand an HTTP upgrade for the relay path to this server. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = remoteAddress(req);
    const admitted = this.#relay.admit(address);
    if (!admitted.ok) {
      this.#logger?.warn?.('relay.refused-connection', { kind: 'ws', address, reason: admitted.reason, limit: admitted.limit });
      refuseUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, address));
  }

  #accept(ws: WebSocket, address: string): void {
    const lowWater = this.#relay.limits.lowWaterMark;
    let queued = 0;
    let wantDrain = false;
    /** A lent chunk is still queued: report drain only once everything is out. */
    let holding = false;
    const events = this.#relay.attach({
      kind: 'ws',
      address,
      write: (data, lent) => {
        if (ws.readyState !== ws.OPEN) return false;
        const n = data.byteLength;
        queued += n;
        if (queued > lowWater) wantDrain = true;
        ws.send(data, { binary: true }, () => {
          queued -= n;
          if (wantDrain && queued <= (holding ? 0 : lowWater)) {
            wantDrain = false;
            holding = false;
            events.drain();
          }
        });
        // Unmasked frames go to the socket as they are (header, then `data`):
        // a lent chunk the kernel did not take at once is still ours to keep.
        if (!lent || ws.bufferedAmount === 0) return false;
        holding = wantDrain = true;
        return true;
      },
      buffered: () => queued,
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      end: () => ws.close(1000),
      destroy: () => ws.terminate(),
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.#logger?.info?.('relay.text-frame', { address });
        ws.close(1003, 'binary frames only');
        return;
      }
      events.data(data);
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const level = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'warn' : 'debug';
      this.#logger?.[level]?.('relay.websocket-error', { address, error: err.code ?? err.message });
    });
    ws.on('close', () => events.closed());
  }

  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
