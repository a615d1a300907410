/**
 * What an embedder passes to `startAgent` and gets back: options, status,
 * the pairing offer and the pairings view. Types only.
 */
import type { CallOptions, ConnectOptions, Logger, MailboxTransport, RTCPeerConnectionConstructor, WebSocketConstructor } from '@burrow/client';
import type { RandomSource } from '@burrow/protocol';
import type { RemoteWindowOptions } from '@burrow/protocol/agent';
import type { JsonValue, KeyValueStore, PairingInfo } from '@burrow/store';

export const DEFAULT_AGENT_PORT = 4100;

/** A method the embedder adds to the agent's RPC. Its result must be JSON. */
export type RpcHandler = (params: Record<string, unknown>, context: { readonly pairing: PairingInfo; readonly signal: AbortSignal }) => Promise<JsonValue> | JsonValue;

export interface AgentOptions {
  /** Identity and pairings live here (and only here). */
  store: KeyValueStore;
  /** Port on 127.0.0.1 (default 4100; 0 = any free port; `null`: no TCP port at all, clients come through {@link Agent.accept}, e.g. native messaging). */
  port?: number | null;
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
  /** Randomness (default `systemRandom` from `@burrow/client`). */
  random?: RandomSource;
  /** Bound on a client's handshake, in ms (default 3 000): a socket not authenticated by then is closed. */
  handshakeTimeoutMs?: number;
  /** Bound on a forwarded TCP connect, in ms (default 10 000). */
  forwardConnectTimeoutMs?: number;
  /** Most authenticated WebSocket connections at once (default 32). Sockets still authenticating have their own bound; the oldest is dropped for a newcomer. */
  maxConnections?: number;
  /** Most authenticated WebSocket connections from one origin (default half of `maxConnections`). */
  maxConnectionsPerOrigin?: number;
  /**
   * Also accept paired clients from anywhere through the mailbox (remote-v1,
   * see `@burrow/protocol/agent`): no code, WebRTC when available, else
   * Transit + mux-v1. Off unless given.
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

/** One open session, as the status lists it. */
export interface SessionSummary {
  readonly pairingId: string;
  readonly name: string;
  readonly origin: string;
  readonly since: number;
  readonly via: 'local' | 'remote';
}

export interface AgentStatus {
  readonly state: 'running' | 'stopped';
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly allowOrigins: readonly string[];
  readonly allowForward: readonly string[];
  readonly sessions: readonly SessionSummary[];
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
