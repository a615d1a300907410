/**
 * connect-v1: what a Burrow peer says about `w.connect()` in its encrypted
 * `version` message, next to the caller's own extras.
 *
 *   {"app_versions": {…}, "abilities": ["webrtc-v1", "mux-v1"], "connect-v1": {"side": "<our side>"}}
 *
 * `abilities` names the connection methods we can run; the two peers try
 * them in a fixed order: direct-v1 (when both name it and webrtc-v1), then
 * WebRTC, then mux-v1 over Transit. The side
 * decides the roles: the smaller side leads. Reading the peer's is in
 * peer-info.ts (apart, so that only connect(), loaded on demand, carries it).
 */
import type { JsonObject } from '../json.js';

export const CONNECT_V1 = 'connect-v1';
/** WebRTC data channels, signalled through the wormhole (signalling.ts). */
export const WEBRTC_V1 = 'webrtc-v1';
/** mux-v1 streams over a Transit connection (relay or direct TCP). */
export const MUX_V1 = 'mux-v1';
/**
 * mux-v1 over a direct TCP Transit connection, tried before WebRTC for a
 * short head start (native peers: a LAN or one machine, where TCP is much
 * faster than a data channel); the leader decides when it has failed.
 */
export const DIRECT_V1 = 'direct-v1';

/** Which side of the negotiation a peer is: decided by comparing the two wormhole sides. */
export type ConnectRole = 'leader' | 'follower';

/**
 * Our `version` extras: the caller's extras with our abilities merged into
 * theirs (no duplicates) and our side under `connect-v1`.
 *
 * @example
 * connectVersionExtras({ other: 1 }, ['webrtc-v1', 'mux-v1'], '0123456789')
 * // → { other: 1, abilities: ['webrtc-v1', 'mux-v1'], 'connect-v1': { side: '0123456789' } }
 */
export function connectVersionExtras(extras: JsonObject, abilities: readonly string[], side: string): JsonObject {
  const theirs = Array.isArray(extras['abilities']) ? (extras['abilities'] as unknown[]) : [];
  return { ...extras, abilities: [...new Set([...theirs, ...abilities])], [CONNECT_V1]: { side } };
}
