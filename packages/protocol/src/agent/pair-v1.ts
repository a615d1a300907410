/**
 * pair-v1: pairing a client (an extension, an app) with an agent by code,
 * through any magic-wormhole mailbox, under its own appid. After the PAKE
 * both sides send, as encrypted wormhole messages:
 *
 *   {"pair-v1": {"role": "agent"|"client", "id": HEX32, "name": TEXT,
 *                "endpoint"?: URL (agent), "origin"?: ORIGIN (client)}}
 *   {"pair-v1": {"done": true}}       once the pairing is stored
 *   {"pair-v1": {"error": TEXT}}      instead, to refuse
 *
 * The long-term secret is derived from the wormhole key and both
 * identities: `w.deriveKey(pairingPurpose(A, C), 32)`, with A the agent's
 * and C the client's identity. Nothing but the two records in the two
 * stores ever holds it. Encoders and parsers only: the agent's `runPairing`
 * drives the exchange.
 */
import { utf8 } from '../bytes.js';
import { WormholeError } from '../errors.js';
import { isJsonObject, type JsonObject } from '../json.js';
import { safeText } from '../text.js';
import { parsePeerBytes } from './json.js';
import { IDENTITY_RE, cleanName, type PeerRole } from './pairing-record.js';

/** The appid pairings use (both sides must agree). */
export const PAIR_APPID = 'burrow/agent/pair-v1';
/** The key every pair-v1 message sits under. */
export const PAIR_NAMESPACE = 'pair-v1';
/** Largest pair-v1 message accepted (UTF-16 code units of its JSON). */
export const MAX_PAIR_MESSAGE = 64 * 1024;
/** Longest endpoint or origin kept from a hello. */
const MAX_LOCATOR_LENGTH = 200;
const MAX_REFUSAL_LENGTH = 300;

/** What each side says about itself. */
export interface PairHello {
  readonly role: PeerRole;
  readonly id: string;
  readonly name: string;
  /** Agent: where it listens. */
  readonly endpoint?: string;
  /** Client: its origin (the agent will insist on it). */
  readonly origin?: string;
}

/** One received pair-v1 message: a refusal, or a body to read as a hello or `done`. */
export type PairEnvelope = { readonly type: 'refused'; readonly reason: string } | { readonly type: 'body'; readonly body: JsonObject };

/** The purpose string of the pairing secret (`w.deriveKey(purpose, 32)`). */
export function pairingPurpose(agentId: string, clientId: string): string {
  return `burrow/agent/pair-v1/secret/${agentId}/${clientId}`;
}

function encode(body: JsonObject): Uint8Array {
  return utf8(JSON.stringify({ [PAIR_NAMESPACE]: body }));
}

/**
 * The hello message for `self`.
 *
 * @example
 * w.sendMessage(encodePairHello({ role: 'agent', id, name: 'Burrow agent', endpoint: 'ws://127.0.0.1:4100/v1' }));
 */
export function encodePairHello(self: PairHello): Uint8Array {
  return encode({
    role: self.role,
    id: self.id,
    name: self.name,
    ...(self.endpoint !== undefined ? { endpoint: self.endpoint } : {}),
    ...(self.origin !== undefined ? { origin: self.origin } : {}),
  });
}

/** The message that confirms the pairing is stored. */
export function encodePairDone(): Uint8Array {
  return encode({ done: true });
}

/** The message that refuses the pairing, with a sentence for the peer. */
export function encodePairRefusal(reason: string): Uint8Array {
  return encode({ error: reason });
}

/**
 * Read one pair-v1 message. Throws `RemoteProtocol` on something that is
 * not a bounded JSON object with a `pair-v1` object in it (another
 * application?); a refusal comes back as `refused` with its sentence bounded.
 */
export function parsePairMessage(bytes: Uint8Array): PairEnvelope {
  const body = parsePeerBytes(bytes, { maxLength: MAX_PAIR_MESSAGE }, 'pair-v1', "the peer's message")[PAIR_NAMESPACE];
  if (!isJsonObject(body)) throw new WormholeError('RemoteProtocol', 'pair-v1: the peer is not pairing (wrong application?)');
  const refusal = body['error'];
  if (typeof refusal === 'string') return { type: 'refused', reason: safeText(refusal).slice(0, MAX_REFUSAL_LENGTH) };
  return { type: 'body', body };
}

/**
 * Read a body as the peer's hello, insisting on `expectRole` and a valid
 * identity (else `RemoteProtocol`). The name is stripped of controls and
 * bidi characters (a bad one becomes a default); a bad endpoint or origin
 * (too long, or with a space, control or bidi character) is left out.
 */
export function parsePairHello(body: JsonObject, expectRole: PeerRole): PairHello {
  if (body['role'] !== expectRole) throw new WormholeError('RemoteProtocol', `pair-v1: expected the peer to be a ${expectRole}`);
  const id = body['id'];
  if (typeof id !== 'string' || !IDENTITY_RE.test(id)) throw new WormholeError('RemoteProtocol', 'pair-v1: bad peer identity');
  let name: string;
  try {
    name = cleanName(body['name']);
  } catch {
    name = expectRole === 'agent' ? 'Burrow agent' : 'Burrow client';
  }
  // A locator with a control or bidi character in it is no locator: left out (no origin = local apps only).
  const clean = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_LOCATOR_LENGTH && safeText(v) === v && !/\s/.test(v);
  const endpoint = body['endpoint'];
  const origin = body['origin'];
  return {
    role: expectRole,
    id,
    name,
    ...(expectRole === 'agent' && clean(endpoint) && /^wss?:\/\//.test(endpoint) ? { endpoint } : {}),
    ...(expectRole === 'client' && clean(origin) ? { origin } : {}),
  };
}

/** True when a body is the peer's `done`. */
export function isPairDone(body: JsonObject): boolean {
  return body['done'] === true;
}
