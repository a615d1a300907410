/**
 * `w.connect()`: agree a bulk-data connection with the peer over the
 * wormhole and return it as a {@link Connection}.
 *
 * Our `version` message advertises what we can do (connect-v1, advertise.ts). The side with
 * the smaller wormhole side is the leader. Two native peers that both
 * advertise `direct-v1` first try direct TCP for a short head start
 * (direct.ts). If both advertise `webrtc-v1` they try WebRTC next; if the
 * leader gives up (ICE failed or too slow) both fall back to Transit +
 * mux-v1 (`relay` or `direct`). Tampering
 * (`Tampered`) never falls back: it fails closed.
 */
import { WormholeError, appErrorText, isJsonObject, parseAppMessage, withSignal, type Logger } from '@burrow/protocol';
import { DIRECT_V1, MUX_V1, WEBRTC_V1, connectRole, parsePeerConnectInfo } from '@burrow/protocol/webrtc';
import { sendAppMessage } from '../app-messages.js';
import type { Wormhole } from '../wormhole.js';
import type { Connection, ConnectorContext, Signalling } from './types.js';
import { advertisedFor } from './advertise.js';
import { transitMuxConnector, type RelayOptions } from './transit.js';
import { webrtcConnector, type WebRtcOptions } from './webrtc/connector.js';
import { iceServersFromWelcome } from './ice-welcome.js';

export interface ConnectOptions extends WebRtcOptions {
  /** The Transit fallback: relays to propose (`ws://…/relay`, `tcp:HOST:PORT`), dialers, a listener for direct TCP. */
  relay?: RelayOptions;
  /**
   * With both peers advertising `direct-v1` (createWormhole's `directTcp`):
   * how long the leader tries direct TCP before WebRTC (default 1000 ms).
   */
  directHeadStartMs?: number;
  /** Bound on the whole negotiation, WebRTC attempt and fallback included (default 60 000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

/** The wormhole as one connector's signalling channel: messages `{"<namespace>": body}`. */
export function wormholeSignalling(w: Wormhole, namespace: string): Signalling {
  return {
    send(body) {
      try {
        sendAppMessage(w, { [namespace]: body });
      } catch (err) {
        throw tamperedIfScared(err);
      }
    },
    async next(options = {}) {
      let bytes: Uint8Array;
      try {
        bytes = await w.nextMessage(options);
      } catch (err) {
        throw tamperedIfScared(err);
      }
      const message = parseAppMessage(bytes);
      const body = message[namespace];
      if (isJsonObject(body)) return body;
      const error = appErrorText(message);
      if (error !== undefined) throw new WormholeError('Rejected', `peer reported an error: ${error}`);
      throw new WormholeError('RemoteProtocol', `peer sent a message without "${namespace}" while the connection was being negotiated`);
    },
  };
}

/** The key was proven before connect() began, so a message that no longer decrypts was altered, injected or replayed. */
function tamperedIfScared(err: unknown): unknown {
  if (!(err instanceof WormholeError && err.code === 'WrongPassword')) return err;
  return new WormholeError(
    'Tampered',
    'a connection message from the peer did not decrypt after the key was confirmed: the mailbox (or something in between) altered, injected or replayed it',
    { cause: err, blame: 'server' },
  );
}

/** Negotiate and open the connection (what `w.connect()` runs). */
export async function connect(w: Wormhole, options: ConnectOptions = {}): Promise<Connection> {
  options.signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const ours = advertisedFor(w);
  if (!ours) throw new WormholeError('Usage', 'this wormhole was not created by createWormhole');
  const versions = await withSignal(w.peerVersions, signal);
  const peer = parsePeerConnectInfo(versions);
  if (!peer) throw new WormholeError('Connection', 'the peer does not support connect() (it is not a Burrow client)', { blame: 'peer' });
  if (peer.side === ours.side) throw new WormholeError('RemoteProtocol', 'the peer claims our own side');
  const role = connectRole(ours.side, peer.side);
  const context = (namespace: string): ConnectorContext => ({
    role,
    signalling: wormholeSignalling(w, namespace),
    deriveKey: (purpose, length) => w.deriveKey(purpose, length, { signal }),
    signal,
  });
  const both = (ability: string) => ours.abilities.includes(ability) && peer.abilities.includes(ability);
  const log = options.logger;

  // Direct TCP first only where WebRTC would be next: without it, mux-v1 below races direct and relay at once.
  if (ours.directTcp && both(DIRECT_V1) && both(WEBRTC_V1) && both(MUX_V1)) {
    const relay = { ...(options.logger ? { logger: options.logger } : {}), ...options.relay };
    const direct = await ours.directTcp(context(DIRECT_V1), { ...relay, ...(options.directHeadStartMs === undefined ? {} : { headStartMs: options.directHeadStartMs }) }).catch((err: unknown) => {
      throw mapAbort(err, signal);
    });
    if (direct) return direct;
  }
  let webrtcFailed: string | undefined;
  if (both(WEBRTC_V1)) {
    const RTC = options.RTCPeerConnection ?? ours.RTCPeerConnection;
    try {
      // The app's ICE servers, else those the mailbox announced (with TURN credentials minted for us).
      const iceServers = options.iceServers ?? options.rtcConfiguration?.iceServers ?? iceServersFromWelcome(await withSignal(w.welcome, signal));
      return await webrtcConnector({ ...options, iceServers, ...(RTC ? { RTCPeerConnection: RTC } : {}) }).connect(context(WEBRTC_V1));
    } catch (err) {
      // Only an agreed give-up (code Connection) may fall back; both sides are then in step.
      if (!(err instanceof WormholeError && err.code === 'Connection') || !both(MUX_V1) || signal.aborted) throw mapAbort(err, signal);
      log?.info?.('connect: WebRTC failed, falling back to Transit', { reason: err.message });
      webrtcFailed = err.message;
    }
  }
  if (both(MUX_V1)) {
    try {
      return await transitMuxConnector({ ...(options.logger ? { logger: options.logger } : {}), ...options.relay }).connect(context(MUX_V1));
    } catch (err) {
      const e = mapAbort(err, signal);
      // Both ways failed: say why the first one did too.
      if (webrtcFailed === undefined || !(e instanceof WormholeError) || e.code !== 'Connection') throw e;
      throw new WormholeError('Connection', `${e.message}, after WebRTC: ${webrtcFailed}`, { cause: e, blame: e.blame });
    }
  }
  throw new WormholeError('Connection', `no connection method in common (ours: ${ours.abilities.join(', ')}; the peer's: ${peer.abilities.join(', ') || 'none'})`);
}

function mapAbort(err: unknown, signal: AbortSignal): unknown {
  const timedOut = signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';
  if (err instanceof WormholeError && (err.code === 'Timeout' || err.code === 'Aborted') && timedOut) {
    return new WormholeError('Timeout', 'connect() did not complete in time: the peer stopped answering (or never called connect())', { cause: err });
  }
  return err;
}
