/**
 * connect-v1: what a Burrow peer says about `w.connect()` in its encrypted
 * `version` message, next to the caller's own extras.
 *
 *   {"app_versions": {…}, "abilities": ["webrtc-v1", "mux-v1"], "connect-v1": {"side": "<our side>"}}
 *
 * `abilities` names the connection methods we can run; the two peers run
 * the first one both name (WebRTC, then mux-v1 over Transit). The side
 * decides the roles: the smaller side leads.
 */
import { isJsonObject, type JsonObject } from '../json.js';

export const CONNECT_V1 = 'connect-v1';
/** WebRTC data channels, signalled through the wormhole (signalling.ts). */
export const WEBRTC_V1 = 'webrtc-v1';
/** mux-v1 streams over a Transit connection (relay or direct TCP). */
export const MUX_V1 = 'mux-v1';

/** Which side of the negotiation a peer is: decided by comparing the two wormhole sides. */
export type ConnectRole = 'leader' | 'follower';

/** What the peer's `version` says about connect(). */
export interface PeerConnectInfo {
  readonly side: string;
  readonly abilities: string[];
}

const MAX_SIDE_LENGTH = 64;
const MAX_ABILITIES = 32;

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

/** Read the peer's connect-v1 info from its `version`; undefined if it is not a Burrow peer. Bounded, never throws. */
export function parsePeerConnectInfo(versions: JsonObject): PeerConnectInfo | undefined {
  const info = versions[CONNECT_V1];
  const side = isJsonObject(info) ? info['side'] : undefined;
  if (typeof side !== 'string' || side.length === 0 || side.length > MAX_SIDE_LENGTH) return undefined;
  const raw = Array.isArray(versions['abilities']) ? (versions['abilities'] as unknown[]) : [];
  return { side, abilities: raw.filter((a): a is string => typeof a === 'string').slice(0, MAX_ABILITIES) };
}

/** The role we take against a peer with side `theirs`. */
export function connectRole(ours: string, theirs: string): ConnectRole {
  return ours < theirs ? 'leader' : 'follower';
}
