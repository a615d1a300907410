/**
 * The agent's HTTP side on 127.0.0.1: every WebSocket upgrade is checked
 * before it is accepted. The Host header must name the agent itself
 * (127.0.0.1:PORT or localhost:PORT; anything else is DNS rebinding), the
 * Origin, when there is one, must be allowlisted (no Origin: a local app,
 * never a browser; only pairings made without an origin may use it), the
 * path must be the agent's, and every accepted socket holds a slot until it
 * closes (slots.ts: bounded per origin, a short pre-auth timeout, the oldest
 * silent socket evicted for a newcomer). Plain HTTP requests get 403 or 426.
 * Nothing a request carries can make this throw: a request it cannot read
 * is refused.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { AGENT_PATH } from '@burrow/protocol/agent';
import type { AgentReporter } from './events.js';
import type { Policy, Refusal } from './policy.js';
import { Slots, type Slot, type SlotLimits } from './slots.js';
import { AgentSocket, type SocketLike } from './socket.js';

export interface UpgradeContext {
  readonly policy: Policy;
  readonly reporter: AgentReporter;
  /** Bounds on sockets, pending and authenticated. */
  readonly limits: SlotLimits;
  /** False once the agent is shutting down. */
  running(): boolean;
  /** An accepted socket from an allowlisted `origin` (`undefined`: no Origin, a local app): run the handshake. */
  accepted(socket: AgentSocket, origin: string | undefined, slot: Slot): void;
}

/** The path of a request target in origin form (`/v1?x`), or `undefined` for anything else (`http://[/v1`, `*`). */
export function requestPath(target: string | undefined): string | undefined {
  if (typeof target !== 'string' || !target.startsWith('/')) return undefined;
  return target.split(/[?#]/, 1)[0];
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
  readonly #slots: Slots;

  constructor(ctx: UpgradeContext) {
    this.#ctx = ctx;
    this.#slots = new Slots(ctx.limits, (refusal) => ctx.reporter.refuse(refusal));
    this.#server = createServer((req, res) => {
      const refusal = ctx.policy.checkHost(req.headers.host);
      if (refusal) ctx.reporter.refuse(refusal);
      res.writeHead(refusal ? 403 : 426, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(refusal ? `Burrow agent: refused: ${refusal.message}\n` : 'Burrow agent: WebSocket only\n');
    });
    // A client that never finishes its request headers is not kept.
    this.#server.headersTimeout = 5_000;
    this.#server.requestTimeout = 10_000;
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        this.#onUpgrade(req, socket, head);
      } catch (err) {
        // Never reached by design (every check is total); if it is, the request is refused, the agent goes on.
        ctx.reporter.log('warn', 'agent.upgrade-failed', { error: err instanceof Error ? err.message.slice(0, 200) : 'Error' });
        socket.destroy();
      }
    });
  }

  /** Sockets waiting to authenticate, and authenticated sessions (for tests and the status). */
  get counts(): { pending: number; sessions: number } {
    return this.#slots.counts;
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

  /**
   * Take a socket that did not come through HTTP (native messaging): the
   * same origin policy, slot and handshake. `origin` is what the browser
   * vouches for. Returns a refusal instead when the origin is not allowed.
   */
  adopt(socket: SocketLike, origin: string | undefined): Refusal | undefined {
    const ctx = this.#ctx;
    const refusal = !ctx.running() ? { reason: 'limit' as const, message: 'the agent is shutting down' } : origin === undefined ? undefined : ctx.policy.checkOrigin(origin);
    if (refusal) {
      ctx.reporter.refuse(refusal);
      return refusal;
    }
    const agentSocket = new AgentSocket(socket);
    const slot = this.#slots.admit(origin ?? '', () => socket.close(1008, 'dropped'));
    void agentSocket.closed.then(() => slot.release());
    ctx.accepted(agentSocket, origin, slot);
    return undefined;
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
    const originRefusal = origin === undefined ? undefined : ctx.policy.checkOrigin(origin);
    if (originRefusal) return reject(403, originRefusal);
    if (requestPath(req.url) !== AGENT_PATH) return reject(404, { reason: 'protocol', message: `no such endpoint (use ${AGENT_PATH})` });
    if (socket.destroyed) return;
    // The slot is the socket's for as long as it is open, whatever the upgrade and the handshake do.
    const slot = this.#slots.admit(origin ?? '', () => socket.destroy());
    socket.once('close', () => slot.release());
    this.#wss.handleUpgrade(req, socket, head, (ws) => ctx.accepted(new AgentSocket(asSocketLike(ws)), origin, slot));
  }
}
