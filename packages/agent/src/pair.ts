/**
 * pair-v1: pairing a client (an extension, an app) with an agent by code,
 * through any magic-wormhole mailbox, under its own appid. After the PAKE
 * both sides send, as encrypted wormhole messages:
 *
 *   {"pair-v1": {"role": "agent"|"client", "id": HEX32, "name": TEXT,
 *                "endpoint"?: URL (agent), "origin"?: ORIGIN (client)}}
 *   {"pair-v1": {"done": true}}       once the pairing is stored
 *
 * The long-term secret is derived from the wormhole key and both
 * identities: `w.deriveKey("burrow/agent/pair-v1/secret/" + A + "/" + C, 32)`,
 * with A the agent's and C the client's identity. Nothing but the two
 * records in the two stores ever holds it.
 */
import { WormholeError, fromUtf8, utf8 } from '@burrow/protocol';
import type { CallOptions, Wormhole } from '@burrow/client';
import { IDENTITY_RE, cleanName, type PairingInfo, type Pairings } from '@burrow/store';

/** The appid pairings use (both sides must agree). */
export const PAIR_APPID = 'burrow/agent/pair-v1';
const NS = 'pair-v1';

export interface PairSelf {
  readonly role: 'agent' | 'client';
  readonly id: string;
  readonly name: string;
  /** Agent: where it listens. */
  readonly endpoint?: string;
  /** Client: its origin (the agent will insist on it). */
  readonly origin?: string;
}

interface PairHello {
  role: 'agent' | 'client';
  id: string;
  name: string;
  endpoint?: string;
  origin?: string;
}

function send(w: Wormhole, body: Record<string, unknown>): void {
  w.sendMessage(utf8(JSON.stringify({ [NS]: body })));
}

async function next(w: Wormhole, options: CallOptions): Promise<Record<string, unknown>> {
  const bytes = await w.nextMessage(options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new WormholeError('RemoteProtocol', 'pair-v1: the peer sent something that is not JSON', { cause });
  }
  const body = (parsed as Record<string, unknown> | null)?.[NS];
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new WormholeError('RemoteProtocol', 'pair-v1: the peer is not pairing (wrong application?)');
  const refusal = (body as Record<string, unknown>)['error'];
  if (typeof refusal === 'string') throw new WormholeError('NotAllowed', `the peer refused the pairing: ${refusal.slice(0, 300)}`, { blame: 'peer' });
  return body as Record<string, unknown>;
}

function parseHello(body: Record<string, unknown>, expectRole: 'agent' | 'client'): PairHello {
  if (body['role'] !== expectRole) throw new WormholeError('RemoteProtocol', `pair-v1: expected the peer to be a ${expectRole}`);
  if (typeof body['id'] !== 'string' || !IDENTITY_RE.test(body['id'])) throw new WormholeError('RemoteProtocol', 'pair-v1: bad peer identity');
  let name: string;
  try {
    name = cleanName(body['name']);
  } catch {
    name = expectRole === 'agent' ? 'Burrow agent' : 'Burrow client';
  }
  const hello: PairHello = { role: expectRole, id: body['id'], name };
  if (expectRole === 'agent' && typeof body['endpoint'] === 'string' && /^wss?:\/\//.test(body['endpoint']) && body['endpoint'].length <= 200) hello.endpoint = body['endpoint'];
  if (expectRole === 'client' && typeof body['origin'] === 'string' && body['origin'].length <= 200) hello.origin = body['origin'];
  return hello;
}

/** The purpose string of the pairing secret. */
export function pairingPurpose(agentId: string, clientId: string): string {
  return `burrow/agent/pair-v1/secret/${agentId}/${clientId}`;
}

/**
 * Run pair-v1 on a wormhole whose code is set (either side may have
 * allocated it) and record the pairing in `pairings`. Resolves with the
 * stored record (never the secret). Closes nothing: the caller owns `w`.
 */
export interface RunPairingOptions extends CallOptions {
  /** Agent side: vet the client before storing anything; return a refusal sentence to refuse. */
  accept?: (peer: { readonly id: string; readonly name: string; readonly origin?: string }) => string | undefined;
}

export async function runPairing(w: Wormhole, self: PairSelf, pairings: Pairings, options: RunPairingOptions = {}): Promise<PairingInfo> {
  options.signal?.throwIfAborted();
  const peerRole = self.role === 'agent' ? 'client' : 'agent';
  send(w, {
    role: self.role,
    id: self.id,
    name: self.name,
    ...(self.endpoint !== undefined ? { endpoint: self.endpoint } : {}),
    ...(self.origin !== undefined ? { origin: self.origin } : {}),
  });
  const peer = parseHello(await next(w, options.signal ? { signal: options.signal } : {}), peerRole);
  if (peer.id === self.id) throw new WormholeError('RemoteProtocol', 'pair-v1: the peer has our own identity');
  const refusal = options.accept?.(peer);
  if (refusal !== undefined) {
    send(w, { error: refusal });
    throw new WormholeError('NotAllowed', `pairing refused: ${refusal}`, { blame: 'peer' });
  }
  const [agentId, clientId] = self.role === 'agent' ? [self.id, peer.id] : [peer.id, self.id];
  const call = options.signal ? { signal: options.signal } : {};
  const secret = await w.deriveKey(pairingPurpose(agentId, clientId), 32, call);
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
    send(w, { done: true });
    const done = await next(w, call);
    if (done['done'] !== true) throw new WormholeError('RemoteProtocol', 'pair-v1: expected done');
    return stored;
  } catch (err) {
    // A pairing the peer did not confirm is no pairing.
    await pairings.remove(peer.id).catch(() => {});
    throw err;
  }
}
