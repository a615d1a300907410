/**
 * What `createWormhole` takes, and the limits and defaults it applies.
 *
 *   const w = await createWormhole({ mailbox: 'ws://127.0.0.1:4000/v1', appid: 'example.com/app' });
 */
import type { Logger, TraceEntry } from '@burrow/protocol';
import type { DirectTcp, RTCPeerConnectionConstructor } from './connection/advertise.js';
import type { MailboxTransport } from './transports/types.js';
import type { WebSocketConstructor } from './transports/websocket.js';

/**
 * Largest application message: its echo (hex, inside JSON) must stay well
 * under the 1 MiB server frame bound that every client enforces.
 */
export const MAX_MESSAGE_SIZE = 256 * 1024;

/** The appid the `wormhole` CLI uses for text and file transfer. */
export const DEFAULT_APPID = 'lothar.com/wormhole/text-or-file-xfer';

/** The options of `createWormhole`; only `mailbox` is required. */
export interface WormholeOptions {
  /** Mailbox server URL, e.g. `ws://127.0.0.1:4000/v1` or `wss://relay.magic-wormhole.io:4000/v1`. */
  mailbox: string;
  /** Application id; both sides must use the same. Default: the CLI's. */
  appid?: string;
  /** Aborting closes the wormhole (mood `errory`) and rejects pending calls with `Aborted`. */
  signal?: AbortSignal;
  /** WebSocket implementation (default `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** A custom mailbox transport; overrides `WebSocket`. */
  transport?: MailboxTransport;
  /** Our `app_versions` sent in the encrypted `version` phase. */
  appVersions?: Record<string, unknown>;
  /** Extra top-level keys for the `version` phase. */
  versionExtras?: Record<string, unknown>;
  /**
   * For `connect()`: default `globalThis.RTCPeerConnection`; on Node pass node-datachannel's
   * polyfill. `null` turns WebRTC off (the webrtc-v1 ability is not advertised).
   */
  RTCPeerConnection?: RTCPeerConnectionConstructor | null;
  /**
   * For `connect()` on Node: `directTcp` from `@burrow/client/node` (with
   * `nodeTransit()` as connect's `relay`). When both peers pass it (and both
   * have WebRTC), connect() tries direct TCP for a short head start before
   * WebRTC (direct-v1): on a LAN or one machine it is several times faster.
   */
  directTcp?: DirectTcp;
  /** Randomness source (default `crypto.getRandomValues`); inject for deterministic tests. */
  random?: (n: number) => Uint8Array;
  /** Time allowed for the first connection to the mailbox, in ms (default 15 000). */
  connectTimeoutMs?: number;
  /** How long a polite close may take before the connection is dropped anyway, in ms (default 10 000). */
  closeTimeoutMs?: number;
  /** Reconnect backoff (default: 1 s × 1.5 up to 60 s, like the Python client). */
  reconnect?: { initialMs: number; maxMs: number; factor: number };
  logger?: Logger;
  /** Called for every machine transition; for debugging. */
  trace?: (entry: TraceEntry) => void;
}

/** The last argument of every async call: aborting rejects the call with `Aborted`. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Where a wormhole is (`w.status`), from the mailbox connection to the close. */
export type WormholeStatus = 'connecting' | 'waiting-for-code' | 'waiting-for-peer' | 'connected' | 'closing' | 'closed';
