/**
 * The client end of agent-v1: authenticate to a paired agent from the stored
 * secret, then talk to it over streams (one per call).
 *
 *   const session = await connectAgent({ store: idbStore() });
 *   const info = await session.call('info');
 *   const res = await session.fetch('http://127.0.0.1:8080/hello');
 *   await session.close();
 */
import {
  MuxConnection,
  createWormhole,
  type CallOptions,
  type ConnectOptions,
  type Connection,
  type DuplexStream,
  type MailboxTransport,
  type RTCPeerConnectionConstructor,
  type WebSocketConstructor,
} from '@burrow/client';
import { WormholeError } from '@burrow/protocol';
import { Pairings, loadIdentity, type KeyValueStore, type PairingInfo } from '@burrow/store';
import { REMOTE_APPID, rendezvous, rendezvousWindow, type RemoteWindowOptions } from '../remote.js';
import { readHeader, encodeHeader, parseResponse, writeAll } from '../rpc.js';
import { AgentSocket, type SocketLike } from '../socket.js';
import { AGENT_PROTOCOL_VERSION, CLOSE_CODES, encodeHandshake, newNonce, parseHandshake, proof, sessionKeys, verifyProof, type HandshakeParams } from '../wire.js';
import { destinationOf, httpOverStream, type AgentFetchInit } from './http.js';

/** A WebSocket constructor: the browser's, or a `ws` subclass that sets an allowlisted Origin in Node. */
export type AgentWebSocketConstructor = new (url: string) => SocketLike;

export interface ConnectAgentOptions {
  /** Where this client keeps its identity and pairings. */
  store: KeyValueStore;
  /** The agent's identity (a pairing id). Default: the most recent agent pairing that is not revoked. */
  agent?: string;
  /** The agent's endpoint. Default: the one it announced when pairing. */
  url?: string;
  /** Default `globalThis.WebSocket`. */
  WebSocket?: AgentWebSocketConstructor;
  /** Randomness (default `crypto.getRandomValues`). */
  random?: (n: number) => Uint8Array;
  /** Bound on the whole handshake, in ms (default 10 000). */
  handshakeTimeoutMs?: number;
  /**
   * Reconnect through a mailbox when the agent's local endpoint cannot be
   * reached (remote-v1): no code, WebRTC when available, else Transit.
   * Without it only the local endpoint is tried.
   */
  remote?: RemoteConnectOptions;
  signal?: AbortSignal;
}

/** How a client reconnects to its agent from elsewhere. */
export interface RemoteConnectOptions extends Pick<RemoteWindowOptions, 'windowMs'> {
  /** The mailbox server the agent listens through, e.g. `ws://127.0.0.1:4000/v1`. */
  mailbox: string;
  /** `false`: go straight to the mailbox, not trying the local endpoint first (default `true`). */
  tryLocal?: boolean;
  /** Mailbox WebSocket (default `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** A custom mailbox transport (tests). */
  transport?: MailboxTransport;
  /** For WebRTC: default `globalThis.RTCPeerConnection`; on Node, node-datachannel's polyfill; `null`: Transit only. */
  RTCPeerConnection?: RTCPeerConnectionConstructor | null;
  /** Passed to `w.connect()`: `rtcConfiguration`, `iceServers`, `relay`, … */
  connect?: Omit<ConnectOptions, 'signal'>;
  /** Clock for the rendezvous window (default `Date.now`). */
  now?: () => number;
  /** Bound on meeting the agent and connecting, in ms (default 30 000). */
  timeoutMs?: number;
}

const defaultRandom = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** Pick the agent pairing to use: the given id, or the newest usable one. */
async function choosePairing(pairings: Pairings, id: string | undefined, options: CallOptions): Promise<PairingInfo> {
  if (id !== undefined) {
    const p = await pairings.get(id, options);
    if (!p || p.peerRole !== 'agent') throw new WormholeError('Unpaired', 'this client is not paired with that agent: pair with a code first');
    if (p.revokedAt !== undefined) throw new WormholeError('Revoked', `the pairing with ${p.name} was revoked`);
    return p;
  }
  const agents = (await pairings.list(options)).filter((p) => p.peerRole === 'agent' && p.revokedAt === undefined);
  const newest = agents[agents.length - 1];
  if (!newest) throw new WormholeError('Unpaired', 'this client is not paired with any agent: pair with a code first');
  return newest;
}

/**
 * Connect to a paired agent and authenticate both ways from the stored
 * secret. Rejects with `Unpaired`, `Revoked` or `NotAllowed` when the agent
 * refuses (the message says why), `Unpaired` when whatever listens there
 * cannot prove the pairing, and `Connection` when nothing answers (or the
 * agent refused this origin or Host before the WebSocket opened: see its log).
 */
export async function connectAgent(options: ConnectAgentOptions): Promise<AgentSession> {
  const { signal } = options;
  signal?.throwIfAborted();
  const pairings = new Pairings(options.store);
  const selfId = await loadIdentity(options.store, options.signal ? { signal: options.signal } : {});
  const pairing = await choosePairing(pairings, options.agent, options.signal ? { signal: options.signal } : {});
  const remote = options.remote;
  if (!remote) return connectLocal(options, pairings, selfId, pairing);
  if (remote.tryLocal !== false && (options.url ?? pairing.endpoint)) {
    try {
      return await connectLocal(options, pairings, selfId, pairing);
    } catch (err) {
      // Only "nothing answers here" falls through to the mailbox; a refusal is final.
      if (!(err instanceof WormholeError && (err.code === 'Connection' || err.code === 'Timeout')) || signal?.aborted) throw err;
    }
  }
  return connectRemote(options, remote, pairings, selfId, pairing);
}

/**
 * remote-v1 (see remote.ts): meet the agent at this window's rendezvous,
 * derived from the pairing secret, run the wormhole with the derived code
 * (the SPAKE2 proves the pairing both ways), connect, then open the control
 * stream on which the agent accepts us and would announce a revocation.
 */
async function connectRemote(options: ConnectAgentOptions, remote: RemoteConnectOptions, pairings: Pairings, selfId: string, pairing: PairingInfo): Promise<AgentSession> {
  const deadline = AbortSignal.timeout(remote.timeoutMs ?? 30_000);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const secret = await pairings.secret(pairing.id);
  if (!secret) throw new WormholeError('Revoked', `the pairing with ${pairing.name} was revoked`);
  let code: string;
  try {
    const window = rendezvousWindow((remote.now ?? Date.now)(), remote);
    code = rendezvous(secret, { agentId: pairing.id, clientId: selfId, window }).code;
  } finally {
    secret.fill(0);
  }
  const w = await createWormhole(
    {
      mailbox: remote.mailbox,
      appid: REMOTE_APPID,
      ...(remote.WebSocket ? { WebSocket: remote.WebSocket } : {}),
      ...(remote.transport ? { transport: remote.transport } : {}),
      ...(remote.RTCPeerConnection !== undefined ? { RTCPeerConnection: remote.RTCPeerConnection } : {}),
    },
    { signal },
  );
  let connection: Connection | undefined;
  try {
    w.setCode(code);
    connection = await w.connect({ ...remote.connect, signal });
    await w.close().catch(() => {});
    const control = await connection.openStream({ signal });
    await writeAll(control.writable, encodeHeader({ method: 'control', params: {} }));
    const { header, rest } = await readHeader(control.readable);
    const accepted = parseResponse(header);
    if (!accepted.ok) throw new WormholeError(accepted.error.code, accepted.error.message, { blame: 'peer' });
    await pairings.touch(pairing.id).catch(() => {});
    const conn = connection;
    // The agent answers on the control stream a second time only to say we were revoked.
    const revoked = (async () => {
      try {
        const { header: notice } = await readHeader(rest);
        const r = parseResponse(notice);
        return r.ok ? undefined : new WormholeError(r.error.code, r.error.message, { blame: 'peer' });
      } catch {
        return undefined;
      }
    })();
    const closed = Promise.all([conn.closed.then(() => undefined, (e: unknown) => e), revoked]).then(([failure, notice]) => {
      if (notice) throw notice;
      if (failure !== undefined) throw failure;
    });
    void revoked.then((notice) => notice && conn.close('revoked').catch(() => {}));
    return new AgentSession(pairing, conn, closed);
  } catch (err) {
    w.abort(err instanceof WormholeError ? err : new WormholeError('Aborted', 'remote reconnect failed', { cause: err }));
    await w.closed.catch(() => {});
    await connection?.close('failed').catch(() => {});
    if (err instanceof WormholeError && err.code === 'WrongPassword') {
      throw new WormholeError('Unpaired', `whoever answered at the rendezvous could not prove the pairing with ${pairing.name}: not the agent you paired with`, { cause: err, blame: 'peer' });
    }
    if (deadline.aborted && !options.signal?.aborted) {
      throw new WormholeError('Timeout', `${pairing.name} did not answer at the remote rendezvous: it is offline, not listening remotely, or has revoked this pairing`, { cause: err });
    }
    throw err;
  }
}

async function connectLocal(options: ConnectAgentOptions, pairings: Pairings, selfId: string, pairing: PairingInfo): Promise<AgentSession> {
  const { signal } = options;
  const url = options.url ?? pairing.endpoint;
  if (!url) throw new WormholeError('Usage', 'the agent did not say where it listens: pass options.url');
  const secret = await pairings.secret(pairing.id);
  if (!secret) throw new WormholeError('Revoked', `the pairing with ${pairing.name} was revoked`);
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: AgentWebSocketConstructor }).WebSocket;
  if (!Ctor) throw new WormholeError('Usage', 'no WebSocket implementation: pass options.WebSocket');
  const random = options.random ?? defaultRandom;
  const deadline = AbortSignal.timeout(options.handshakeTimeoutMs ?? 10_000);
  const handshakeSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;

  let ws: SocketLike;
  try {
    ws = new Ctor(url);
  } catch (cause) {
    secret.fill(0);
    throw new WormholeError('Usage', `cannot open a WebSocket to ${url}`, { cause });
  }
  const socket = new AgentSocket(ws);
  try {
    await opened(socket, url, handshakeSignal);
    const clientNonce = newNonce(random);
    socket.sendText(encodeHandshake({ type: 'hello', v: AGENT_PROTOCOL_VERSION, id: selfId, nonce: clientNonce }));
    const challenge = parseHandshake(await socket.next(handshakeSignal));
    if (challenge.type === 'error') throw new WormholeError(challenge.code, challenge.message);
    if (challenge.type !== 'challenge') throw new WormholeError('RemoteProtocol', `agent-v1: expected a challenge, got ${challenge.type}`);
    const params: HandshakeParams = { clientId: selfId, agentId: pairing.id, clientNonce, agentNonce: challenge.nonce };
    if (challenge.id !== pairing.id || !verifyProof(secret, 'agent', params, challenge.proof)) {
      socket.close(CLOSE_CODES['Unpaired'], 'agent proof failed');
      throw new WormholeError('Unpaired', `whatever listens at ${url} could not prove the pairing with ${pairing.name}: not the agent you paired with`, { blame: 'peer' });
    }
    socket.sendText(encodeHandshake({ type: 'proof', proof: proof(secret, 'client', params) }));
    const ready = parseHandshake(await socket.next(handshakeSignal));
    if (ready.type === 'error') throw new WormholeError(ready.code, ready.message);
    if (ready.type !== 'ready') throw new WormholeError('RemoteProtocol', `agent-v1: expected ready, got ${ready.type}`);
    const keys = sessionKeys(secret, params);
    let mux: MuxConnection | undefined;
    const pipe = socket.records(keys.clientToAgent, keys.agentToClient, (control) => {
      if (control.type === 'revoked') {
        mux?.fail(new WormholeError('Revoked', control.message));
        socket.close();
      }
    });
    mux = new MuxConnection({ pipe, role: 'leader', kind: 'direct', path: url });
    await pairings.touch(pairing.id).catch(() => {});
    return new AgentSession(pairing, mux);
  } catch (err) {
    socket.close();
    throw err instanceof WormholeError ? err : new WormholeError('Connection', `agent handshake with ${url} failed`, { cause: err });
  } finally {
    secret.fill(0);
  }
}

function opened(socket: AgentSocket, url: string, signal: AbortSignal): Promise<void> {
  if (socket.isOpen) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const ws = socket.socket;
    const cleanup = () => {
      ws.removeEventListener('open', onOpen);
      signal.removeEventListener('abort', onAbort);
    };
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onAbort = () => {
      cleanup();
      reject(new WormholeError('Timeout', `no answer from the agent at ${url}`, { cause: signal.reason }));
    };
    ws.addEventListener('open', onOpen);
    signal.addEventListener('abort', onAbort, { once: true });
    void socket.closed.then(() => {
      cleanup();
      reject(
        new WormholeError(
          'Connection',
          `could not open the agent connection at ${url}: the agent is not running there, or it refused this origin or Host (its log says which)`,
        ),
      );
    });
  });
}

/** An authenticated connection to the agent. */
export class AgentSession {
  /** The agent we are paired with (never the secret). */
  readonly agent: PairingInfo;
  /** The streams themselves; the agent may open streams to us too (`connection.incoming`). */
  readonly connection: Connection;
  /** Resolves on a clean close; rejects with e.g. `Revoked` when the agent dropped us. */
  readonly closed: Promise<void>;

  constructor(agent: PairingInfo, connection: Connection, closed: Promise<void> = connection.closed) {
    this.agent = agent;
    this.connection = connection;
    this.closed = closed;
    closed.catch(() => {});
  }

  /** Call `method` on the agent (one stream); resolves with its result or rejects with its error. */
  async call(method: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
    const { rest, result } = await this.#request(method, params, true, options);
    await rest.cancel().catch(() => {});
    return result;
  }

  /**
   * Open a byte stream to `destination` (`host:port`, exactly as the agent
   * allowlists it; the agent resolves the name). Rejects with `NotAllowed`
   * if the agent does not allow it.
   */
  async forward(destination: string, options: CallOptions = {}): Promise<DuplexStream> {
    if (typeof destination !== 'string') throw new TypeError('destination must be a "host:port" string');
    const { stream, rest } = await this.#request('forward', { to: destination }, false, options);
    return { id: stream.id, readable: rest, writable: stream.writable };
  }

  /** `fetch` an http:// URL from a local service through the agent (HTTP/1.1, one stream per request). */
  async fetch(input: string | URL, init: AgentFetchInit = {}): Promise<Response> {
    init.signal?.throwIfAborted();
    const url = new URL(input);
    const stream = await this.forward(destinationOf(url), init.signal ? { signal: init.signal } : {});
    return httpOverStream(stream, url, init);
  }

  close(): Promise<void> {
    return this.connection.close('client closed');
  }

  async #request(method: string, params: Record<string, unknown>, closeAfter: boolean, options: CallOptions) {
    options.signal?.throwIfAborted();
    const stream = await this.connection.openStream(options);
    const onAbort = () => {
      stream.writable.abort(options.signal?.reason).catch(() => {});
      stream.readable.cancel(options.signal?.reason).catch(() => {});
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await writeAll(stream.writable, encodeHeader({ method, params }), closeAfter);
      const { header, rest } = await readHeader(stream.readable);
      const response = parseResponse(header);
      if (!response.ok) {
        await rest.cancel().catch(() => {});
        if (!closeAfter) await stream.writable.close().catch(() => {});
        throw new WormholeError(response.error.code, response.error.message, { blame: response.error.code === 'NotAllowed' ? 'caller' : 'peer' });
      }
      return { stream, rest, result: response.result };
    } catch (err) {
      if (options.signal?.aborted) throw new WormholeError('Aborted', `${method} was aborted`, { cause: err });
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
