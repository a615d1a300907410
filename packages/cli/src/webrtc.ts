/**
 * WebRTC for `burrow send` / `burrow receive`: node-datachannel's
 * RTCPeerConnection (an optional dependency). When it does not load, the
 * wormhole does not advertise webrtc-v1 and `connect()` uses Transit.
 */
import { networkInterfaces } from 'node:os';
import { jsonLogger } from './log.js';
import type { ConnectOptions, RTCPeerConnectionConstructor, TransitOptions } from '@burrow/client';

/** node-datachannel's `RTCPeerConnection`, or `null` when it is not installed or does not load. */
export async function nodeRTCPeerConnection(): Promise<RTCPeerConnectionConstructor | null> {
  try {
    const mod = (await import('node-datachannel/polyfill')) as { RTCPeerConnection?: unknown };
    return typeof mod.RTCPeerConnection === 'function' ? (mod.RTCPeerConnection as RTCPeerConnectionConstructor) : null;
  } catch {
    // Decision: an optional native module that does not load means "no WebRTC", not an error.
    return null;
  }
}

/**
 * The options of `w.connect()` for the CLI: Transit (`transit`) as the
 * fallback, and — on a machine whose only network is loopback (an offline
 * host, a test namespace) — WebRTC bound to 127.0.0.1, since
 * node-datachannel gathers no loopback candidates by itself.
 */
export function cliConnect(transit: TransitOptions): ConnectOptions {
  const external = Object.values(networkInterfaces()).some((list) => list?.some((a) => !a.internal));
  return {
    relay: transit,
    ...(external ? {} : { rtcConfiguration: { bindAddress: '127.0.0.1' } }),
    // BURROW_DEBUG=1: how the connection was negotiated (WebRTC, fallback), as JSON lines on stderr.
    ...(process.env['BURROW_DEBUG'] === '1' ? { logger: jsonLogger(process.stderr, 'debug') } : {}),
  };
}
