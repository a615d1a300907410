/**
 * Running pair-v1 (the messages and the secret's derivation are
 * `@burrow/protocol/agent` pair-v1) on a wormhole whose code is set, and
 * recording the pairing: the I/O and the policy hook, nothing of the format.
 */
import { WormholeError } from '@burrow/protocol';
import {
  PAIRING_SECRET_BYTES,
  encodePairDone,
  encodePairHello,
  encodePairRefusal,
  isPairDone,
  pairingPurpose,
  parsePairHello,
  parsePairMessage,
  type PairHello,
} from '@burrow/protocol/agent';
import type { JsonObject } from '@burrow/protocol';
import type { CallOptions, Wormhole } from '@burrow/client';
import type { PairingInfo, Pairings } from '@burrow/store';

export { PAIR_APPID, pairingPurpose } from '@burrow/protocol/agent';

/** What this side says about itself. */
export type PairSelf = PairHello;

/** The next pair-v1 body from the peer; a refusal rejects with `NotAllowed`. */
async function next(w: Wormhole, options: CallOptions): Promise<JsonObject> {
  const message = parsePairMessage(await w.nextMessage(options));
  if (message.type === 'refused') throw new WormholeError('NotAllowed', `the peer refused the pairing: ${message.reason}`, { blame: 'peer' });
  return message.body;
}

export interface RunPairingOptions extends CallOptions {
  /** Agent side: vet the client before storing anything; return a refusal sentence to refuse. */
  accept?: (peer: { readonly id: string; readonly name: string; readonly origin?: string }) => string | undefined;
}

/**
 * Run pair-v1 on a wormhole whose code is set (either side may have
 * allocated it) and record the pairing in `pairings`. Resolves with the
 * stored record (never the secret). Closes nothing: the caller owns `w`.
 */
export async function runPairing(w: Wormhole, self: PairSelf, pairings: Pairings, options: RunPairingOptions = {}): Promise<PairingInfo> {
  options.signal?.throwIfAborted();
  const call = options.signal ? { signal: options.signal } : {};
  const peerRole = self.role === 'agent' ? 'client' : 'agent';
  w.sendMessage(encodePairHello(self));
  const peer = parsePairHello(await next(w, call), peerRole);
  if (peer.id === self.id) throw new WormholeError('RemoteProtocol', 'pair-v1: the peer has our own identity');
  const refusal = options.accept?.(peer);
  if (refusal !== undefined) {
    w.sendMessage(encodePairRefusal(refusal));
    throw new WormholeError('NotAllowed', `pairing refused: ${refusal}`, { blame: 'peer' });
  }
  const [agentId, clientId] = self.role === 'agent' ? [self.id, peer.id] : [peer.id, self.id];
  const secret = await w.deriveKey(pairingPurpose(agentId, clientId), PAIRING_SECRET_BYTES, call);
  let stored: PairingInfo;
  try {
    stored = await pairings.add(
      {
        id: peer.id,
        name: peer.name,
        peerRole,
        ...(peer.endpoint !== undefined ? { endpoint: peer.endpoint } : {}),
        ...(peer.origin !== undefined ? { origin: peer.origin } : {}),
      },
      secret,
      call,
    );
  } finally {
    secret.fill(0);
  }
  try {
    w.sendMessage(encodePairDone());
    if (!isPairDone(await next(w, call))) throw new WormholeError('RemoteProtocol', 'pair-v1: expected done');
    return stored;
  } catch (err) {
    // A pairing the peer did not confirm is no pairing.
    await pairings.remove(peer.id).catch(() => {
      /* the pairing's own failure (`err`) is what the caller must see */
    });
    throw err;
  }
}
