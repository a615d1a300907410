/**
 * The agent's and its client's wormholes (pair-v1 by code, remote-v1 by
 * rendezvous): opening one with the agent's mailbox options, and giving one
 * up after a failure. Browser-safe.
 */
import { createWormhole, type MailboxTransport, type RTCPeerConnectionConstructor, type WebSocketConstructor, type Wormhole } from '@burrow/client';
import { WormholeError } from '@burrow/protocol';
import { bestEffort } from './ignore.js';

export interface MailboxOptions {
  readonly mailbox: string;
  readonly appid: string;
  readonly WebSocket?: WebSocketConstructor | undefined;
  readonly transport?: MailboxTransport | undefined;
  readonly RTCPeerConnection?: RTCPeerConnectionConstructor | null | undefined;
  /** Also bounds the wormhole's own life (not only its creation). */
  readonly bindSignal?: boolean;
}

/** A wormhole on `mailbox` under `appid`; options left undefined keep the client's defaults. */
export function openWormhole(o: MailboxOptions, signal: AbortSignal | undefined): Promise<Wormhole> {
  return createWormhole(
    {
      mailbox: o.mailbox,
      appid: o.appid,
      ...(o.RTCPeerConnection !== undefined ? { RTCPeerConnection: o.RTCPeerConnection } : {}),
      ...(o.WebSocket ? { WebSocket: o.WebSocket } : {}),
      ...(o.transport ? { transport: o.transport } : {}),
      ...(o.bindSignal && signal ? { signal } : {}),
    },
    signal ? { signal } : {},
  );
}

/** Give up on `w` after `err`: abort it (with `err` when it is a WormholeError) and wait until it closed. */
export async function abandon(w: Wormhole, err: unknown, what: string): Promise<void> {
  w.abort(err instanceof WormholeError ? err : new WormholeError('Aborted', what, { cause: err }));
  await w.closed.catch(bestEffort);
}
