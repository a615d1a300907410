/**
 * The local agent (Node): a WebSocket endpoint on 127.0.0.1 that paired
 * clients (a browser extension, an app) reach without a code.
 *
 *   const agent = await startAgent({
 *     store: fileStore(dir),
 *     allowOrigins: ['chrome-extension://abcdefghijklmnopabcdefghijklmnop'],
 *     allowForward: ['127.0.0.1:8080'],
 *     mailbox: 'ws://127.0.0.1:4000/v1',
 *   });
 *   const offer = agent.pair();          // show `await offer.code` to the user
 *   await offer.paired;
 *   for await (const e of agent.events()) console.log(e.type);
 *   await agent.shutdown();
 *
 * Every WebSocket upgrade is checked before it is accepted: the Host header
 * must name the agent itself (127.0.0.1:PORT or localhost:PORT; anything else
 * is DNS rebinding) and the Origin must be allowlisted. Then the client must
 * prove its pairing (wire.ts); the session is encrypted under keys from the
 * pairing secret and both nonces. Each stream is one RPC call (rpc.ts);
 * `forward` opens a TCP connection to an allowlisted `host:port`, the name
 * resolved here. Every refusal is logged and published as an event, and
 * never with a secret, a code, a nonce or a proof in it.
 *
 * With `remote`, the agent also waits for each paired client at a mailbox
 * rendezvous derived from the pairing secret (remote.ts) and serves the
 * resulting `w.connect()` Connection with the same RPC, forwarding and
 * revocation policy.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import {
  MuxConnection,
  createWormhole,
  type CallOptions,
  type ConnectOptions,
  type Connection,
  type DuplexStream,
  type Logger,
  type MailboxTransport,
  type RTCPeerConnectionConstructor,
  type WebSocketConstructor,
  type Wormhole,
} from '@burrow/client';
import { WormholeError, type WormholeErrorCode } from '@burrow/protocol';
import { Pairings, loadIdentity, type JsonValue, type KeyValueStore, type PairingInfo } from '@burrow/store';
import { EventHub } from './events.js';
import { PAIR_APPID, runPairing } from './pair.js';
import { Policy, isRefusal, type Refusal, type RefusalReason } from './policy.js';
import { REMOTE_APPID, listenWindows, nextListenChange, rendezvous, type RemoteWindowOptions } from './remote.js';
import { encodeHeader, parseRequest, readHeader, writeAll } from './rpc.js';
import { AgentSocket, type SessionPipe, type SocketLike } from './socket.js';
import {
  AGENT_PATH,
  AGENT_PROTOCOL_VERSION,
  CLOSE_CODES,
  encodeControl,
  encodeHandshake,
  newNonce,
  parseHandshake,
  proof,
  sessionKeys,
  shortId,
  verifyProof,
  type HandshakeParams,
} from './wire.js';

export const DEFAULT_AGENT_PORT = 4100;

/** A method the embedder adds to the agent's RPC. Its result must be JSON. */
export type RpcHandler = (params: Record<string, unknown>, context: { readonly pairing: PairingInfo; readonly signal: AbortSignal }) => Promise<JsonValue> | JsonValue;

export interface AgentOptions {
  /** Identity and pairings live here (and only here). */
  store: KeyValueStore;
  /** Port on 127.0.0.1 (default 4100; 0 = any free port). */
  port?: number;
  /** Origins allowed to open the WebSocket, e.g. `chrome-extension://<id>`. Default: none. */
  allowOrigins?: readonly string[];
  /** `host:port` destinations clients may forward to. Default: none. */
  allowForward?: readonly string[];
  /** Mailbox server for pairing by code, e.g. `ws://127.0.0.1:4000/v1`. */
  mailbox?: string;
  /** How clients will list this agent (default `Burrow agent on <hostname>`). */
  name?: string;
  /** Extra RPC methods (`info` and `forward` are built in). */
  methods?: Readonly<Record<string, RpcHandler>>;
  /** Structured logs (never given secrets, codes, nonces or proofs). */
  logger?: Logger;
  /** Mailbox WebSocket for pairing (default `ws`). */
  WebSocket?: WebSocketConstructor;
  /** A custom mailbox transport for pairing (tests). */
  transport?: MailboxTransport;
  random?: (n: number) => Uint8Array;
  /** Bound on a client's handshake, in ms (default 10 000). */
  handshakeTimeoutMs?: number;
  /** Bound on a forwarded TCP connect, in ms (default 10 000). */
  forwardConnectTimeoutMs?: number;
  /** Most WebSocket connections at once (default 32). */
  maxConnections?: number;
  /**
   * Also accept paired clients from anywhere through the mailbox (remote-v1,
   * see remote.ts): no code, WebRTC when available, else Transit + mux-v1.
   * Off unless given.
   */
  remote?: RemoteListenOptions;
}

/** How the agent listens for remote reconnects. */
export interface RemoteListenOptions extends RemoteWindowOptions {
  /** Mailbox server (default: `options.mailbox`). */
  mailbox?: string;
  /** For WebRTC: on Node, node-datachannel's polyfill. `null` or absent without a global: Transit only. */
  RTCPeerConnection?: RTCPeerConnectionConstructor | null;
  /** Passed to `w.connect()`: `rtcConfiguration`, `iceServers`, `relay` (relays and dialers for the Transit fallback), … */
  connect?: Omit<ConnectOptions, 'signal' | 'logger'>;
  /** Clock for the rendezvous windows (default `Date.now`). */
  now?: () => number;
  /** First retry delay after a failed rendezvous, in ms (default 1 000, doubling up to 30 000). */
  retryMs?: number;
}

export type AgentEvent =
  | { readonly type: 'listening'; readonly url: string }
  | { readonly type: 'paired'; readonly pairing: PairingInfo }
  | { readonly type: 'connected'; readonly pairing: PairingInfo; readonly origin: string; readonly via: 'local' | 'remote' }
  | { readonly type: 'disconnected'; readonly pairing: PairingInfo; readonly error?: string }
  | { readonly type: 'refused'; readonly reason: RefusalReason; readonly message: string; readonly pairingId?: string }
  | { readonly type: 'forward'; readonly pairing: PairingInfo; readonly to: string }
  | { readonly type: 'revoked'; readonly pairingId: string; readonly dropped: number }
  | { readonly type: 'shutdown' };

export interface AgentStatus {
  readonly state: 'running' | 'stopped';
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly allowOrigins: readonly string[];
  readonly allowForward: readonly string[];
  readonly sessions: readonly { readonly pairingId: string; readonly name: string; readonly origin: string; readonly since: number; readonly via: 'local' | 'remote' }[];
  /** Remote rendezvous being listened on (one or two per client pairing), when `remote` is on. */
  readonly remoteListeners: number;
}

export interface PairingOffer {
  /** The code to show the user (never logged). */
  readonly code: Promise<string>;
  /** The stored pairing, once the client entered the code and both sides stored it. */
  readonly paired: Promise<PairingInfo>;
}

/** Pairings seen through the agent: revoking or removing also drops open connections at once. */
export interface AgentPairings {
  list(options?: CallOptions): Promise<PairingInfo[]>;
  get(id: string, options?: CallOptions): Promise<PairingInfo | undefined>;
  rename(id: string, name: string, options?: CallOptions): Promise<PairingInfo | undefined>;
  revoke(id: string, options?: CallOptions): Promise<boolean>;
  remove(id: string, options?: CallOptions): Promise<boolean>;
}

interface Session {
  readonly pairing: PairingInfo;
  readonly origin: string;
  readonly since: number;
  readonly via: 'local' | 'remote';
  /** The streams: mux-v1 over the local WebSocket, or the remote Connection. */
  readonly connection: Connection;
  readonly forwards: Set<Socket>;
  readonly abort: AbortController;
  /** Still usable. */
  live(): boolean;
  /** Tell the client it was revoked (best effort) and tear the transport down now. */
  revoke(code: 'Revoked', message: string): void;
  /** Tear the transport down. */
  end(): void;
  /** Remote sessions: the client's control stream, on which a revocation is announced. */
  attachControl?(stream: DuplexStream): void;
}

/**
 * Join a TCP socket and a stream both ways, with backpressure each way;
 * resolves when the socket is closed. Either side failing tears down both.
 */
function splice(tcp: Socket, writable: WritableStream<Uint8Array>, readable: ReadableStream<Uint8Array>): Promise<void> {
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const teardown = (reason?: unknown) => {
    tcp.destroy();
    writer.abort(reason).catch(() => {});
    reader.cancel(reason).catch(() => {});
  };
  tcp.on('data', (chunk: Buffer) => {
    writer.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).catch(teardown);
    if ((writer.desiredSize ?? 1) <= 0) {
      tcp.pause();
      writer.ready.then(() => tcp.resume(), teardown);
    }
  });
  tcp.on('end', () => void writer.close().catch(() => {}));
  tcp.on('error', (err) => teardown(err));
  const done = new Promise<void>((resolve) => tcp.once('close', () => resolve()));
  void (async () => {
    try {
      for (;;) {
        const { value, done: ended } = await reader.read();
        if (ended) {
          tcp.end();
          return;
        }
        if (!tcp.write(value)) await new Promise<void>((resolve) => {
          const go = () => {
            tcp.off('drain', go);
            tcp.off('close', go);
            resolve();
          };
          tcp.on('drain', go);
          tcp.on('close', go);
        });
        if (tcp.destroyed) return;
      }
    } catch (err) {
      teardown(err);
    }
  })();
  return done.then(() => {
    reader.cancel().catch(() => {});
    writer.releaseLock();
  });
}

/** `promise`, or a rejection when `signal` fires first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Wait `ms` (a retry delay), or less if `signal` fires. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Node's `ws` as the agent-protocol socket type. */
const asSocketLike = (ws: WebSocket): SocketLike => ws as unknown as SocketLike;

/** Start the agent; resolves once it listens. Rejects with `Usage` on a bad allowlist entry. */
export async function startAgent(options: AgentOptions, callOptions: CallOptions = {}): Promise<Agent> {
  callOptions.signal?.throwIfAborted();
  if (!options?.store) throw new WormholeError('Usage', 'options.store is required (memoryStore() or fileStore(dir))');
  const policy = new Policy(options.allowOrigins ?? [], options.allowForward ?? []);
  const id = await loadIdentity(options.store, { ...callOptions, ...(options.random ? { random: options.random } : {}) });
  const agent = new Agent(options, policy, id);
  await agent.listen(options.port ?? DEFAULT_AGENT_PORT);
  return agent;
}

export class Agent {
  /** This agent's identity (public: clients know it from pairing). */
  readonly id: string;
  readonly name: string;
  /** Pairings: list, rename, revoke (revoking drops open connections at once), remove. */
  readonly pairings: AgentPairings;
  /** Resolves once shut down. */
  readonly closed: Promise<void>;

  readonly #options: AgentOptions;
  readonly #policy: Policy;
  readonly #store: Pairings;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #events = new EventHub<AgentEvent>();
  readonly #sessions = new Map<string, Set<Session>>();
  readonly #waiters = new Map<string, Set<(s: Session) => void>>();
  readonly #pairingAborts = new Set<AbortController>();
  readonly #random: (n: number) => Uint8Array;
  readonly #unwatch: () => void;
  /** Remote listeners by `pairingId/window`. */
  readonly #remoteListeners = new Map<string, AbortController>();
  #remoteTimer: ReturnType<typeof setTimeout> | undefined;
  #reconciling = false;
  #reconcileAgain = false;
  #sockets = 0;
  #port = 0;
  #state: 'running' | 'stopped' = 'running';
  #resolveClosed!: () => void;

  /** Use {@link startAgent}. */
  constructor(options: AgentOptions, policy: Policy, id: string) {
    this.#options = options;
    this.#policy = policy;
    this.id = id;
    this.name = options.name ?? `Burrow agent on ${hostname()}`;
    this.#store = new Pairings(options.store);
    this.#random = options.random ?? ((n) => globalThis.crypto.getRandomValues(new Uint8Array(n)));
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#server = createServer((req, res) => {
      const refusal = this.#policy.checkHost(req.headers.host);
      if (refusal) this.#refuse(refusal);
      res.writeHead(refusal ? 403 : 426, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(refusal ? `Burrow agent: refused: ${refusal.message}\n` : 'Burrow agent: WebSocket only\n');
    });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 128 * 1024, perMessageDeflate: false });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    const store = this.#store;
    this.pairings = {
      list: (o) => store.list(o),
      get: (pid, o) => store.get(pid, o),
      rename: (pid, name, o) => store.rename(pid, name, o),
      revoke: async (pid, o) => {
        const done = await store.revoke(pid, o);
        this.#drop(pid, 'Revoked', 'the pairing was revoked on the agent');
        return done;
      },
      remove: async (pid, o) => {
        const done = await store.remove(pid, o);
        this.#drop(pid, 'Revoked', 'the pairing was removed on the agent');
        return done;
      },
    };
    // Another process (`burrow agent revoke`) or another handle on the store may revoke too.
    this.#unwatch = store.watch((pid) => {
      void this.#recheck(pid);
      this.#reconcileRemote();
    });
  }

  /** @internal */
  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    this.#policy.setPort(this.#port);
    this.#log('info', 'agent.listening', { url: this.url, origins: this.#policy.origins, forward: this.#policy.destinations });
    this.#events.publish({ type: 'listening', url: this.url });
    if (this.#options.remote) {
      if (!(this.#options.remote.mailbox ?? this.#options.mailbox)) throw new WormholeError('Usage', 'options.remote needs a mailbox: pass options.remote.mailbox or options.mailbox');
      listenWindows(0, this.#options.remote); // checks windowMs and skewMs now, not in the background
      this.#reconcileRemote();
    }
  }

  get port(): number {
    return this.#port;
  }

  /** The endpoint clients connect to: `ws://127.0.0.1:PORT/v1`. */
  get url(): string {
    return `ws://127.0.0.1:${this.#port}${AGENT_PATH}`;
  }

  /** A snapshot of the agent. */
  status(): AgentStatus {
    return {
      state: this.#state,
      id: this.id,
      name: this.name,
      url: this.url,
      port: this.#port,
      allowOrigins: this.#policy.origins,
      allowForward: this.#policy.destinations,
      sessions: [...this.#sessions.values()].flatMap((set) => [...set].map((s) => ({ pairingId: s.pairing.id, name: s.pairing.name, origin: s.origin, since: s.since, via: s.via }))),
      remoteListeners: this.#remoteListeners.size,
    };
  }

  /** Events from now on, as an async iterable; ends at shutdown or when `signal` fires. */
  events(options: CallOptions = {}): AsyncIterableIterator<AgentEvent> {
    return this.#events.subscribe(options);
  }

  /**
   * Offer a pairing by code through the mailbox: show `code` to the user, who
   * types it into the client. One offer pairs one client.
   */
  pair(options: CallOptions & { codeLength?: number } = {}): PairingOffer {
    const mailbox = this.#options.mailbox;
    const controller = new AbortController();
    this.#pairingAborts.add(controller);
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    let resolveCode!: (c: string) => void;
    let rejectCode!: (e: unknown) => void;
    const code = new Promise<string>((res, rej) => ((resolveCode = res), (rejectCode = rej)));
    const paired = (async () => {
      if (!mailbox) throw new WormholeError('Usage', 'the agent has no mailbox to pair through: pass options.mailbox (--relay-url)');
      if (this.#state !== 'running') throw new WormholeError('Closed', 'the agent is shut down');
      const w = await createWormhole(
        {
          mailbox,
          appid: PAIR_APPID,
          RTCPeerConnection: null,
          WebSocket: this.#options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
          ...(this.#options.transport ? { transport: this.#options.transport } : {}),
          signal,
        },
        { signal },
      );
      try {
        resolveCode(await w.allocateCode(options.codeLength ?? 2, { signal }));
        const pairing = await runPairing(w, { role: 'agent', id: this.id, name: this.name, endpoint: this.url }, this.#store, {
          signal,
          accept: (peer) => (peer.origin !== undefined ? this.#policy.checkOrigin(peer.origin)?.message : undefined),
        });
        await w.close();
        this.#log('info', 'agent.paired', { pairing: shortId(pairing.id), name: pairing.name, ...(pairing.origin ? { origin: pairing.origin } : {}) });
        this.#events.publish({ type: 'paired', pairing });
        this.#reconcileRemote();
        return pairing;
      } catch (err) {
        w.abort(err instanceof WormholeError ? err : new WormholeError('Aborted', 'pairing failed', { cause: err }));
        await w.closed.catch(() => {});
        this.#log('warn', 'agent.pairing-failed', { error: err instanceof WormholeError ? err.code : 'Error' });
        throw err;
      }
    })();
    paired.catch((err: unknown) => rejectCode(err)).finally(() => this.#pairingAborts.delete(controller));
    code.catch(() => {});
    return { code, paired };
  }

  /**
   * The live connection of a paired client: open streams to it, see its
   * stats. Waits until that client connects (bound it with `signal`).
   */
  connect(pairingId: string, options: CallOptions = {}): Promise<Connection> {
    options.signal?.throwIfAborted();
    // The newest session that is still open (an older one may be closing right now).
    const live = [...(this.#sessions.get(pairingId) ?? [])].filter((s) => s.live());
    const newest = live[live.length - 1];
    if (newest) return Promise.resolve(newest.connection);
    if (this.#state !== 'running') return Promise.reject(new WormholeError('Closed', 'the agent is shut down'));
    return new Promise<Connection>((resolve, reject) => {
      const set = this.#waiters.get(pairingId) ?? new Set();
      this.#waiters.set(pairingId, set);
      const onAbort = () => {
        set.delete(waiter);
        reject(new WormholeError('Aborted', 'stopped waiting for the client', { cause: options.signal?.reason }));
      };
      const waiter = (s: Session) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(s.connection);
      };
      set.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stop listening, drop every session and pending pairing, end `events`. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#state === 'stopped') return this.closed;
    this.#state = 'stopped';
    this.#unwatch();
    clearTimeout(this.#remoteTimer);
    for (const c of this.#remoteListeners.values()) c.abort(new WormholeError('Closed', 'the agent is shutting down'));
    this.#remoteListeners.clear();
    for (const c of this.#pairingAborts) c.abort(new WormholeError('Closed', 'the agent is shutting down'));
    const closing: Promise<void>[] = [];
    for (const set of this.#sessions.values()) {
      for (const s of set) {
        closing.push(s.connection.close('agent shutting down').catch(() => {}));
      }
    }
    await Promise.all(closing);
    for (const set of this.#sessions.values()) for (const s of set) this.#endSession(s);
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    this.#log('info', 'agent.shutdown', {});
    this.#events.publish({ type: 'shutdown' });
    this.#events.end();
    this.#resolveClosed();
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reject = (status: number, refusal: Refusal) => {
      this.#refuse(refusal);
      const body = `Burrow agent: refused: ${refusal.message}\n`;
      socket.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Service Unavailable'}\r\ncontent-type: text/plain; charset=utf-8\r\nx-burrow-refusal: ${refusal.reason}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    socket.on('error', () => socket.destroy());
    if (this.#state !== 'running') return reject(503, { reason: 'limit', message: 'the agent is shutting down' });
    const hostRefusal = this.#policy.checkHost(req.headers.host);
    if (hostRefusal) return reject(403, hostRefusal);
    const origin = req.headers.origin;
    const originRefusal = this.#policy.checkOrigin(origin);
    if (originRefusal) return reject(403, originRefusal);
    if (new URL(req.url ?? '/', 'http://x').pathname !== AGENT_PATH) return reject(404, { reason: 'protocol', message: `no such endpoint (use ${AGENT_PATH})` });
    const max = this.#options.maxConnections ?? 32;
    if (this.#sockets >= max) return reject(503, { reason: 'limit', message: `too many connections (${max})` });
    this.#sockets++;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', () => this.#sockets--);
      void this.#handshake(ws, origin!);
    });
  }

  async #handshake(ws: WebSocket, origin: string): Promise<void> {
    const socket = new AgentSocket(asSocketLike(ws));
    const signal = AbortSignal.timeout(this.#options.handshakeTimeoutMs ?? 10_000);
    let secret: Uint8Array | undefined;
    try {
      const hello = parseHandshake(await socket.next(signal));
      if (hello.type !== 'hello') return this.#refuseSocket(socket, 'RemoteProtocol', { reason: 'protocol', message: `expected hello, got ${hello.type}` });
      if (hello.v !== AGENT_PROTOCOL_VERSION) return this.#refuseSocket(socket, 'RemoteProtocol', { reason: 'protocol', message: `unsupported agent protocol version ${hello.v}` });
      const pairing = await this.#store.get(hello.id);
      if (!pairing || pairing.peerRole !== 'client') {
        return this.#refuseSocket(socket, 'Unpaired', { reason: 'unpaired', message: 'this key is not paired with the agent: pair with a code first' }, hello.id);
      }
      if (pairing.revokedAt !== undefined) {
        return this.#refuseSocket(socket, 'Revoked', { reason: 'revoked', message: `the pairing '${pairing.name}' was revoked` }, hello.id);
      }
      if (pairing.origin !== undefined && pairing.origin !== origin) {
        return this.#refuseSocket(socket, 'NotAllowed', { reason: 'origin', message: `this pairing belongs to origin '${pairing.origin}', not '${origin}'` }, hello.id);
      }
      secret = await this.#store.secret(hello.id);
      if (!secret) return this.#refuseSocket(socket, 'Revoked', { reason: 'revoked', message: `the pairing '${pairing.name}' was revoked` }, hello.id);
      const agentNonce = newNonce(this.#random);
      const params: HandshakeParams = { clientId: hello.id, agentId: this.id, clientNonce: hello.nonce, agentNonce };
      socket.sendText(encodeHandshake({ type: 'challenge', id: this.id, nonce: agentNonce, proof: proof(secret, 'agent', params) }));
      const answer = parseHandshake(await socket.next(signal));
      if (answer.type !== 'proof' || !verifyProof(secret, 'client', params, answer.proof)) {
        return this.#refuseSocket(socket, 'Unpaired', { reason: 'proof', message: 'the client could not prove the pairing key' }, hello.id);
      }
      // Revoked while we were talking? Check once more, then go.
      if (!(await this.#store.secret(hello.id))) return this.#refuseSocket(socket, 'Revoked', { reason: 'revoked', message: `the pairing '${pairing.name}' was revoked` }, hello.id);
      socket.sendText(encodeHandshake({ type: 'ready' }));
      const keys = sessionKeys(secret, params);
      this.#startSession(socket, pairing, origin, keys.agentToClient, keys.clientToAgent);
    } catch (err) {
      const timedOut = signal.aborted;
      this.#refuseSocket(socket, timedOut ? 'Timeout' : 'RemoteProtocol', {
        reason: 'protocol',
        message: timedOut ? 'the handshake took too long' : err instanceof Error ? err.message : 'bad handshake',
      });
    } finally {
      secret?.fill(0);
    }
  }

  #startSession(socket: AgentSocket, pairing: PairingInfo, origin: string, sendKey: Parameters<AgentSocket['records']>[0], receiveKey: Parameters<AgentSocket['records']>[1]): void {
    const pipe: SessionPipe = socket.records(sendKey, receiveKey, () => {});
    const mux = new MuxConnection({ pipe, role: 'follower', kind: 'direct', path: `agent:${origin}` });
    this.#addSession({
      pairing,
      origin,
      since: Date.now(),
      via: 'local',
      connection: mux,
      forwards: new Set(),
      abort: new AbortController(),
      live: () => !mux.isClosed && socket.isOpen,
      revoke: (code, message) => {
        try {
          pipe.sendControl(encodeControl({ type: 'revoked', message }));
        } catch {
          // the socket is already gone
        }
        socket.close(CLOSE_CODES[code], 'revoked');
        mux.fail(new WormholeError(code, message));
      },
      end: () => socket.close(),
    });
  }

  #addSession(session: Session): void {
    const { pairing, origin, via } = session;
    const set = this.#sessions.get(pairing.id) ?? new Set();
    set.add(session);
    this.#sessions.set(pairing.id, set);
    void this.#store.touch(pairing.id).catch(() => {});
    this.#log('info', 'agent.connected', { pairing: shortId(pairing.id), name: pairing.name, origin, via, kind: session.connection.kind });
    this.#events.publish({ type: 'connected', pairing, origin, via });
    for (const waiter of this.#waiters.get(pairing.id) ?? []) waiter(session);
    this.#waiters.delete(pairing.id);
    session.connection.closed.then(
      () => this.#endSession(session),
      (err: unknown) => this.#endSession(session, err),
    );
    void this.#serve(session);
  }

  #endSession(session: Session, err?: unknown): void {
    const set = this.#sessions.get(session.pairing.id);
    if (!set?.delete(session)) return;
    if (set.size === 0) this.#sessions.delete(session.pairing.id);
    session.abort.abort();
    for (const s of session.forwards) s.destroy();
    session.forwards.clear();
    session.end();
    const error = err instanceof WormholeError ? err.code : err ? 'Error' : undefined;
    this.#log('info', 'agent.disconnected', { pairing: shortId(session.pairing.id), ...(error ? { error } : {}) });
    this.#events.publish({ type: 'disconnected', pairing: session.pairing, ...(error ? { error } : {}) });
  }

  async #serve(session: Session): Promise<void> {
    try {
      for await (const stream of session.connection.incoming) void this.#call(session, stream);
    } catch {
      // the session ended; #endSession reports it
    }
  }

  async #call(session: Session, stream: DuplexStream): Promise<void> {
    const respond = async (body: Parameters<typeof encodeHeader>[0], close: boolean) => writeAll(stream.writable, encodeHeader(body), close);
    const fail = async (code: WormholeErrorCode, message: string) => {
      await respond({ ok: false, error: { code, message } }, true).catch(() => {});
      stream.readable.cancel().catch(() => {});
    };
    try {
      const { header, rest } = await readHeader(stream.readable);
      const request = parseRequest(header);
      // The pairing may have been revoked by a store this agent cannot watch: check on every call.
      if (!(await this.#store.secret(session.pairing.id))) {
        await fail('Revoked', 'the pairing was revoked');
        this.#drop(session.pairing.id, 'Revoked', 'the pairing was revoked on the agent');
        return;
      }
      if (request.method === 'forward') return await this.#forward(session, stream, rest, request.params, fail);
      if (request.method === 'control' && session.attachControl) {
        // remote-v1: the client keeps this stream open; a revocation is announced on it.
        await writeAll(stream.writable, encodeHeader({ ok: true, result: { id: this.id, name: this.name } }));
        session.attachControl(stream);
        await rest.pipeTo(new WritableStream()).catch(() => {});
        return;
      }
      await rest.cancel().catch(() => {});
      if (request.method === 'info') {
        return await respond({ ok: true, result: { id: this.id, name: this.name, version: AGENT_PROTOCOL_VERSION, forward: this.#policy.destinations, methods: ['info', 'forward', ...Object.keys(this.#options.methods ?? {})] } }, true);
      }
      const handler = this.#options.methods?.[request.method];
      if (!handler) return await fail('Usage', `no such method '${request.method.slice(0, 100)}'`);
      let result: JsonValue;
      try {
        result = await handler(request.params, { pairing: session.pairing, signal: session.abort.signal });
      } catch (err) {
        const code = err instanceof WormholeError ? err.code : 'Rejected';
        return await fail(code, err instanceof Error ? err.message : 'the method failed');
      }
      await respond({ ok: true, result }, true);
    } catch (err) {
      if (err instanceof WormholeError && err.code === 'RemoteProtocol') await fail('RemoteProtocol', err.message);
      else stream.writable.abort(err).catch(() => {});
    }
  }

  async #forward(
    session: Session,
    stream: DuplexStream,
    rest: ReadableStream<Uint8Array>,
    params: Record<string, unknown>,
    fail: (code: WormholeErrorCode, message: string) => Promise<void>,
  ): Promise<void> {
    const dest = this.#policy.checkDestination(params['to']);
    if (isRefusal(dest)) {
      this.#refuse(dest, session.pairing.id);
      await rest.cancel().catch(() => {});
      return fail('NotAllowed', dest.message);
    }
    let tcp: Socket;
    try {
      tcp = await new Promise<Socket>((resolve, reject) => {
        const s = netConnect({ host: dest.host, port: dest.port, timeout: this.#options.forwardConnectTimeoutMs ?? 10_000 });
        s.once('connect', () => {
          s.setTimeout(0);
          s.off('error', reject);
          resolve(s);
        });
        s.once('timeout', () => {
          s.destroy();
          reject(new Error('timed out'));
        });
        s.once('error', reject);
      });
    } catch (err) {
      await rest.cancel().catch(() => {});
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      this.#log('warn', 'agent.forward-failed', { pairing: shortId(session.pairing.id), to: dest.key, error: why });
      return fail('Connection', `could not connect to ${dest.key}: ${why}`);
    }
    if (session.abort.signal.aborted) {
      tcp.destroy();
      return;
    }
    session.forwards.add(tcp);
    tcp.once('close', () => session.forwards.delete(tcp));
    this.#log('info', 'agent.forward', { pairing: shortId(session.pairing.id), to: dest.key });
    this.#events.publish({ type: 'forward', pairing: session.pairing, to: dest.key });
    await writeAll(stream.writable, encodeHeader({ ok: true, result: { to: dest.key } }));
    await splice(tcp, stream.writable, rest);
  }

  /**
   * Keep one remote listener per client pairing and rendezvous window
   * (remote.ts): start the missing ones, stop those of revoked pairings and
   * past windows, and come back when the windows change.
   */
  #reconcileRemote(): void {
    const remote = this.#options.remote;
    if (!remote || this.#state !== 'running') return;
    if (this.#reconciling) {
      this.#reconcileAgain = true;
      return;
    }
    this.#reconciling = true;
    void (async () => {
      try {
        do {
          this.#reconcileAgain = false;
          const now = (remote.now ?? Date.now)();
          const windows = listenWindows(now, remote);
          const clients = (await this.#store.list()).filter((p) => p.peerRole === 'client' && p.revokedAt === undefined);
          if (this.#state !== 'running') return;
          const want = new Map<string, { pairingId: string; window: number }>();
          for (const p of clients) for (const window of windows) want.set(`${p.id}/${window}`, { pairingId: p.id, window });
          for (const [key, controller] of this.#remoteListeners) {
            if (want.has(key)) continue;
            controller.abort(new WormholeError('Closed', 'no longer listening on this rendezvous'));
            this.#remoteListeners.delete(key);
          }
          for (const [key, { pairingId, window }] of want) {
            if (this.#remoteListeners.has(key)) continue;
            const controller = new AbortController();
            this.#remoteListeners.set(key, controller);
            void this.#listenRemote(pairingId, window, controller.signal).finally(() => {
              if (this.#remoteListeners.get(key) === controller) this.#remoteListeners.delete(key);
            });
          }
          clearTimeout(this.#remoteTimer);
          this.#remoteTimer = setTimeout(() => this.#reconcileRemote(), Math.max(1, nextListenChange(now, remote) - now));
        } while (this.#reconcileAgain && this.#state === 'running');
      } catch (err) {
        this.#log('warn', 'agent.remote-failed', { error: err instanceof WormholeError ? err.code : 'Error' });
      } finally {
        this.#reconciling = false;
      }
    })();
  }

  /** Wait at one pairing's rendezvous for its client, again and again, until `signal` fires or the pairing is revoked. */
  async #listenRemote(pairingId: string, window: number, signal: AbortSignal): Promise<void> {
    const remote = this.#options.remote!;
    const mailbox = (remote.mailbox ?? this.#options.mailbox)!;
    const firstDelay = remote.retryMs ?? 1000;
    let delay = firstDelay;
    while (!signal.aborted && this.#state === 'running') {
      let w: Wormhole | undefined;
      try {
        const secret = await this.#store.secret(pairingId);
        if (!secret) return; // revoked: #reconcileRemote forgets this listener
        let code: string;
        try {
          code = rendezvous(secret, { agentId: this.id, clientId: pairingId, window }).code;
        } finally {
          secret.fill(0);
        }
        w = await createWormhole(
          {
            mailbox,
            appid: REMOTE_APPID,
            WebSocket: this.#options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
            RTCPeerConnection: remote.RTCPeerConnection ?? null,
            ...(this.#options.transport ? { transport: this.#options.transport } : {}),
            signal,
          },
          { signal },
        );
        w.setCode(code);
        await untilAborted(w.peerVersions, signal);
        const connection = await w.connect({ ...remote.connect, signal, ...(this.#options.logger ? { logger: this.#options.logger } : {}) });
        await w.close().catch(() => {});
        w = undefined;
        delay = firstDelay;
        // Revoked while we were connecting? Then this client gets nothing.
        const pairing = await this.#store.get(pairingId);
        const still = await this.#store.secret(pairingId);
        still?.fill(0);
        if (!pairing || !still || this.#state !== 'running') {
          this.#refuse({ reason: 'revoked', message: 'the pairing was revoked while the client reconnected remotely' }, pairingId);
          await connection.close('revoked').catch(() => {});
          continue;
        }
        this.#startRemoteSession(pairing, connection);
      } catch (err) {
        if (w) {
          w.abort(err instanceof WormholeError ? err : new WormholeError('Aborted', 'remote rendezvous failed', { cause: err }));
          await w.closed.catch(() => {});
        }
        if (signal.aborted || this.#state !== 'running') return;
        const code = err instanceof WormholeError ? err.code : 'Error';
        if (code === 'WrongPassword') this.#refuse({ reason: 'proof', message: 'someone at the remote rendezvous could not prove the pairing' }, pairingId);
        else this.#log('warn', 'agent.remote-failed', { pairing: shortId(pairingId), error: code });
        await pause(delay, signal);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  #startRemoteSession(pairing: PairingInfo, connection: Connection): void {
    let open = true;
    let control: DuplexStream | undefined;
    let noticeSent = false;
    connection.closed.then(
      () => (open = false),
      () => (open = false),
    );
    this.#addSession({
      pairing,
      origin: pairing.origin ?? '',
      since: Date.now(),
      via: 'remote',
      connection,
      forwards: new Set(),
      abort: new AbortController(),
      live: () => open,
      attachControl: (stream) => void (control = stream),
      revoke: (code, message) => {
        if (!control) return;
        noticeSent = true;
        void writeAll(control.writable, encodeHeader({ ok: false, error: { code, message } }), true).catch(() => {});
      },
      end: () => {
        const close = () => void connection.close('the agent ended the session').catch(() => {});
        if (!noticeSent || !open) return close();
        // A data channel closed right after a write may lose it: let the client read the
        // notice and hang up itself, for up to a second. Nothing is served meanwhile
        // (the session is gone, its forwards destroyed, every call re-checks the pairing).
        const timer = setTimeout(close, 1000);
        void connection.closed.catch(() => {}).finally(() => clearTimeout(timer));
      },
    });
  }

  /** Re-read a pairing after the store changed; drop its sessions if it is gone or revoked. */
  async #recheck(pairingId: string): Promise<void> {
    if (!this.#sessions.has(pairingId)) return;
    const secret = await this.#store.secret(pairingId).catch(() => undefined);
    if (secret) {
      secret.fill(0);
      return;
    }
    this.#drop(pairingId, 'Revoked', 'the pairing was revoked on the agent');
  }

  /** Drop every open session of a pairing now, telling the client why. */
  #drop(pairingId: string, code: 'Revoked', message: string): void {
    const set = this.#sessions.get(pairingId);
    const sessions = set ? [...set] : [];
    for (const s of sessions) {
      s.revoke(code, message);
      this.#endSession(s, new WormholeError(code, message));
    }
    this.#reconcileRemote();
    this.#log('warn', 'agent.revoked', { pairing: shortId(pairingId), dropped: sessions.length });
    this.#events.publish({ type: 'revoked', pairingId, dropped: sessions.length });
  }

  #refuseSocket(socket: AgentSocket, code: WormholeErrorCode, refusal: Refusal, pairingId?: string): void {
    this.#refuse(refusal, pairingId);
    socket.sendText(encodeHandshake({ type: 'error', code, message: refusal.message }));
    socket.close(CLOSE_CODES[code] ?? 4002, refusal.reason);
  }

  #refuse(refusal: Refusal, pairingId?: string): void {
    this.#log('warn', 'agent.refused', { reason: refusal.reason, detail: refusal.message, ...(pairingId ? { pairing: shortId(pairingId) } : {}) });
    this.#events.publish({ type: 'refused', reason: refusal.reason, message: refusal.message, ...(pairingId ? { pairingId } : {}) });
  }

  #log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    this.#options.logger?.[level]?.(message, fields);
  }
}
