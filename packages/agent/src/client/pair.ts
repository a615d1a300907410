/**
 * Pair this client with an agent by the code the agent shows.
 *
 *   const agent = await pairWithAgent({ mailbox, code: '4-purple-sausage', store: idbStore(), name: 'My extension' });
 */
import { systemRandom, type MailboxTransport, type WebSocketConstructor } from '@burrow/client';
import { PAIR_APPID } from '@burrow/protocol/agent';
import { Pairings, loadIdentity, type KeyValueStore, type PairingInfo } from '@burrow/store';
import { runPairing } from '../pair.js';
import { abandon, openWormhole } from '../wormhole.js';

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
  const id = await loadIdentity(options.store, { ...call, random: systemRandom });
  const origin = options.origin ?? (globalThis as { location?: { origin?: string } }).location?.origin;
  const w = await openWormhole({ mailbox: options.mailbox, appid: PAIR_APPID, RTCPeerConnection: null, WebSocket: options.WebSocket, transport: options.transport }, signal);
  try {
    w.setCode(options.code.trim());
    const pairing = await runPairing(w, { role: 'client', id, name: options.name, ...(origin && origin !== 'null' ? { origin } : {}) }, new Pairings(options.store), call);
    await w.close();
    return pairing;
  } catch (err) {
    await abandon(w, err, 'pairing failed');
    throw err;
  }
}
