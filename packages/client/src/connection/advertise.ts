/**
 * What our `version` message says about connect() (kept tiny: the Wormhole
 * constructor needs it, the connection code itself is loaded on demand).
 * The format is connect-v1 (`@burrow/protocol/webrtc` abilities.ts);
 * `webrtc-v1` is advertised only when an RTCPeerConnection is available,
 * `direct-v1` only when the app says it can make direct TCP connections.
 */
import { CONNECT_V1, DIRECT_V1, MUX_V1, WEBRTC_V1, connectVersionExtras } from '@burrow/protocol/webrtc';
import type { Connection, ConnectorContext } from './types.js';
import type { TransitOptions } from '../transit/connector.js';
/** files-v1 (`@burrow/protocol/files`), spelled here so the core does not load that module. */
export const FILES_V1 = 'files-v1';

export { CONNECT_V1, DIRECT_V1, MUX_V1, WEBRTC_V1 };

/** The RTCPeerConnection constructor: the browser's, or node-datachannel's polyfill on Node. */
export type RTCPeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

/**
 * direct-v1's implementation (`directTcp` from `@burrow/client/node`):
 * passed in rather than imported, so browser bundles never carry it.
 */
export type DirectTcp = (context: ConnectorContext, options: DirectTcpOptions) => Promise<Connection | undefined>;

/** What connect() gives direct-v1: its Transit options and the leader's head start. */
export interface DirectTcpOptions extends TransitOptions {
  headStartMs?: number;
}

export interface Advertised {
  readonly abilities: readonly string[];
  readonly side: string;
  readonly RTCPeerConnection: RTCPeerConnectionConstructor | undefined;
  readonly directTcp: DirectTcp | undefined;
}

const advertised = new WeakMap<object, Advertised>();

/** Whether an RTCPeerConnection is available for these options. */
export function hasWebRtc(options: { RTCPeerConnection?: RTCPeerConnectionConstructor | null | undefined }): boolean {
  if (options.RTCPeerConnection === null) return false;
  return typeof (options.RTCPeerConnection ?? (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection) === 'function';
}

/**
 * Our `version` extras (merged into the caller's), remembered for `w`.
 * Called by the Wormhole constructor.
 */
export function advertiseConnect(
  w: object,
  side: string,
  options: { versionExtras?: Record<string, unknown>; RTCPeerConnection?: RTCPeerConnectionConstructor | null; directTcp?: DirectTcp | undefined },
): Record<string, unknown> {
  const abilities = [...(options.directTcp ? [DIRECT_V1] : []), ...(hasWebRtc(options) ? [WEBRTC_V1] : []), MUX_V1, FILES_V1];
  advertised.set(w, { abilities, side, RTCPeerConnection: options.RTCPeerConnection ?? undefined, directTcp: options.directTcp });
  return connectVersionExtras(options.versionExtras ?? {}, abilities, side);
}

/** What we advertised for `w` (undefined if it was not made by createWormhole). */
export function advertisedFor(w: object): Advertised | undefined {
  return advertised.get(w);
}
