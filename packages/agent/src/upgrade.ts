/**
 * The agent's HTTP side on 127.0.0.1: every WebSocket upgrade is checked
 * before it is accepted. The Host header must name the agent itself
 * (127.0.0.1:PORT or localhost:PORT; anything else is DNS rebinding), the
 * Origin must be allowlisted, the path must be the agent's, and the number
 * of connections is bounded. Plain HTTP requests get 403 or 426.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { AGENT_PATH } from '@burrow/protocol/agent';
import type { AgentReporter } from './events.js';
import type { Policy, Refusal } from './policy.js';
import { AgentSocket, type SocketLike } from './socket.js';

export interface UpgradeContext {
  readonly policy: Policy;
  readonly reporter: AgentReporter;
  /** Most WebSocket connections at once. */
  readonly maxConnections: number;
  /** False once the agent is shutting down. */
  running(): boolean;
  /** An accepted socket from an allowlisted `origin`: run the handshake. */
  accepted(socket: AgentSocket, origin: string): void;
}

/** Largest WebSocket message accepted. */
const MAX_PAYLOAD = 128 * 1024;

/** Node's `ws` as the agent-protocol socket type. */
const asSocketLike = (ws: WebSocket): SocketLike => ws as unknown as SocketLike;

const STATUS_TEXT: Readonly<Record<number, string>> = { 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

export class UpgradeServer {
  readonly #ctx: UpgradeContext;
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  #sockets = 0;

  constructor(ctx: UpgradeContext) {
    this.#ctx = ctx;
    this.#server = createServer((req, res) => {
      const refusal = ctx.policy.checkHost(req.headers.host);
      if (refusal) ctx.reporter.refuse(refusal);
      res.writeHead(refusal ? 403 : 426, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(refusal ? `Burrow agent: refused: ${refusal.message}\n` : 'Burrow agent: WebSocket only\n');
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
  }

  /** Listen on 127.0.0.1:`port` (0: any free port); resolves with the port. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  /** Terminate every socket and stop listening. */
  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ctx = this.#ctx;
    const reject = (status: number, refusal: Refusal) => {
      ctx.reporter.refuse(refusal);
      const body = `Burrow agent: refused: ${refusal.message}\n`;
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: text/plain; charset=utf-8\r\nx-burrow-refusal: ${refusal.reason}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    socket.on('error', () => socket.destroy());
    if (!ctx.running()) return reject(503, { reason: 'limit', message: 'the agent is shutting down' });
    const hostRefusal = ctx.policy.checkHost(req.headers.host);
    if (hostRefusal) return reject(403, hostRefusal);
    const origin = req.headers.origin;
    const originRefusal = ctx.policy.checkOrigin(origin);
    if (originRefusal) return reject(403, originRefusal);
    if (new URL(req.url ?? '/', 'http://x').pathname !== AGENT_PATH) return reject(404, { reason: 'protocol', message: `no such endpoint (use ${AGENT_PATH})` });
    if (this.#sockets >= ctx.maxConnections) return reject(503, { reason: 'limit', message: `too many connections (${ctx.maxConnections})` });
    this.#sockets++;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', () => this.#sockets--);
      ctx.accepted(new AgentSocket(asSocketLike(ws)), origin!);
    });
  }
}
