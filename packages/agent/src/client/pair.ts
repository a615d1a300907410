/**
 * Pair this client with an agent by the code the agent shows.
 *
 *   const agent = await pairWithAgent({ mailbox, code: '4-purple-sausage', store: idbStore(), name: 'My extension' });
 */
import { createWormhole, type MailboxTransport, type WebSocketConstructor } from '@burrow/client';
import { WormholeError } from '@burrow/protocol';
import { Pairings, loadIdentity, type KeyValueStore, type PairingInfo } from '@burrow/store';
import { PAIR_APPID, runPairing } from '../pair.js';

export interface PairWithAgentOptions {
  /** The mailbox server the agent uses, e.g. `ws://127.0.0.1:4000/v1`. */
  mailbox: string;
  /** The code the agent printed. */
  code: string;
  /** Where to keep this client's identity and the pairing. */
  store: KeyValueStore;
  /** How the agent will list this client. */
  name: string;
  /** This client's origin; the agent will insist on it. Default `globalThis.location.origin` where there is one. */
  origin?: string;
  /** For Node: a WebSocket implementation for the mailbox. */
  WebSocket?: WebSocketConstructor;
  /** A custom mailbox transport (tests). */
  transport?: MailboxTransport;
  signal?: AbortSignal;
}

/** Pair by code; resolves with the agent's pairing record (never the secret). Rejects with `WrongPassword` on a mistyped code. */
export async function pairWithAgent(options: PairWithAgentOptions): Promise<PairingInfo> {
  const { signal } = options;
  signal?.throwIfAborted();
  const call = signal ? { signal } : {};
  const id = await loadIdentity(options.store, call);
  const origin = options.origin ?? (globalThis as { location?: { origin?: string } }).location?.origin;
  const w = await createWormhole(
    {
      mailbox: options.mailbox,
      appid: PAIR_APPID,
      RTCPeerConnection: null,
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
      ...(options.transport ? { transport: options.transport } : {}),
    },
    call,
  );
  try {
    w.setCode(options.code.trim());
    const pairing = await runPairing(w, { role: 'client', id, name: options.name, ...(origin && origin !== 'null' ? { origin } : {}) }, new Pairings(options.store), call);
    await w.close();
    return pairing;
  } catch (err) {
    w.abort(err instanceof WormholeError ? err : new WormholeError('Aborted', 'pairing failed', { cause: err }));
    await w.closed.catch(() => {});
    throw err;
  }
}
