/**
 * Reading the peer's connect-v1 `version` (abilities.ts writes ours) and
 * the role it gives us.
 */
import { isJsonObject, type JsonObject } from '../json.js';
import { CONNECT_V1, type ConnectRole } from './abilities.js';

/** What the peer's `version` says about connect(). */
export interface PeerConnectInfo {
  readonly side: string;
  readonly abilities: string[];
}

const MAX_SIDE_LENGTH = 64;
const MAX_ABILITIES = 32;

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
