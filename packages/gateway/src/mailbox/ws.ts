/**
 * The mailbox over WebSocket (`ws`): text frames in and out, frames far
 * above the size limit refused by `ws` itself (close 1009) before they are
 * buffered whole (the core answers merely large ones), dead clients found by
 * ping, and the per-address / total connection caps checked before the
 * upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@burrow/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import type { MailboxService } from './service.js';

export interface MailboxWebSocketOptions {
  readonly logger?: Logger;
  /** Ping every this many ms; a client that misses a whole interval is dropped (default 60 s). */
  readonly pingIntervalMs?: number;
}

/** Remote address of an HTTP request, normalised ("::ffff:127.0.0.1" → "127.0.0.1"). */
export function remoteAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Answer an upgrade request with a plain HTTP error and drop it. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

export class MailboxWebSocketServer {
  readonly #service: MailboxService;
  readonly #logger: Logger | undefined;
  readonly #wss: WebSocketServer;
  readonly #alive = new WeakSet<WebSocket>();
  readonly #pingTimer: NodeJS.Timeout;

  constructor(service: MailboxService, options: MailboxWebSocketOptions = {}) {
    this.#service = service;
    this.#logger = options.logger;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: service.hardFrameLimit, perMessageDeflate: false, clientTracking: true });
    this.#pingTimer = setInterval(() => this.#ping(), options.pingIntervalMs ?? 60_000);
    this.#pingTimer.unref();
  }

  /** Hand an HTTP upgrade for the mailbox path to this server; `address`: the client's (default the TCP peer's). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, address = remoteAddress(req)): void {
    const admitted = this.#service.admit(address);
    if (!admitted.ok) {
      this.#logger?.warn?.('mailbox.refused-connection', { address, reason: admitted.reason, limit: admitted.limit });
      refuseUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, address));
  }

  #accept(ws: WebSocket, address: string): void {
    this.#alive.add(ws);
    ws.on('pong', () => this.#alive.add(ws));
    const peer = this.#service.attach({
      address,
      send: (frame) => {
        if (ws.readyState === ws.OPEN) ws.send(frame);
      },
      bufferedAmount: () => ws.bufferedAmount,
      close: (code, reason) => {
        // A slow or misbehaving client: do not wait for its close handshake.
        if (code === 1001) ws.close(code, reason);
        else ws.terminate();
      },
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#alive.add(ws);
      peer.receive(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const level = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'warn' : 'debug';
      this.#logger?.[level]?.('mailbox.websocket-error', { address, error: err.code ?? err.message });
    });
    ws.on('close', () => peer.closed());
  }

  #ping(): void {
    for (const ws of this.#wss.clients) {
      if (!this.#alive.has(ws)) {
        this.#logger?.info?.('mailbox.ping-timeout', {});
        ws.terminate();
        continue;
      }
      this.#alive.delete(ws);
      try {
        ws.ping();
      } catch {
        // closing already
      }
    }
  }

  /** Stop pinging and drop every connection. */
  close(): void {
    clearInterval(this.#pingTimer);
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
