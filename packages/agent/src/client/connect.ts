/**
 * The client end of the agent: authenticate to a paired agent from the
 * stored secret (locally over agent-v1, else through the mailbox over
 * remote-v1), then talk to it over streams (one per call).
 *
 *   const session = await connectAgent({ store: idbStore() });
 *   const info = await session.call('info');
 *   const res = await session.fetch('http://127.0.0.1:8080/hello');
 *   await session.close();
 */
import { systemRandom, type CallOptions, type ConnectOptions, type MailboxTransport, type RTCPeerConnectionConstructor, type WebSocketConstructor } from '@burrow/client';
import { WormholeError, type RandomSource } from '@burrow/protocol';
import type { RemoteWindowOptions } from '@burrow/protocol/agent';
import { Pairings, loadIdentity, type KeyValueStore, type PairingInfo } from '@burrow/store';
import type { SocketLike } from '../socket.js';
import type { AgentSession } from './agent-session.js';
import { connectLocal } from './local.js';
import { connectRemote } from './remote.js';

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
  /** Randomness (default `systemRandom` from `@burrow/client`). */
  random?: RandomSource;
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
  const selfId = await loadIdentity(options.store, { ...(options.signal ? { signal: options.signal } : {}), random: options.random ?? systemRandom });
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
