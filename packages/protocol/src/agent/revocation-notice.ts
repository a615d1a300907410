/**
 * Telling a revoked client, through the mailbox, that it was revoked.
 *
 * Revoking deletes the pairing secret S on the agent, so the agent can no
 * longer meet the client at its remote-v1 rendezvous (nor should it: with
 * S it could be the agent to that client). Instead, at revocation, it keeps
 * a notice key derived from S, and nothing else:
 *
 *   N = HKDF(ikm = S, salt = "burrow agent remote-v1",
 *            info = "burrow agent remote-v1 revocation notice key", 32)
 *
 * For as long as it keeps N ({@link NOTICE_TTL_MS}, or until the client was
 * told), the agent waits at the notice rendezvous of each window (remote-v1's
 * derivation with N for S and the label "burrow agent remote-v1 revocation
 * notice"), and to whoever completes the SPAKE2 there (only a holder of S or
 * N can) sends one wormhole message and closes:
 *
 *   {"remote-v1": {"revoked": MS}}      MS: when it was revoked
 *
 * A client reconnecting remotely tries the notice rendezvous beside its
 * usual one: meeting the agent there means `Revoked`. N opens no session:
 * a thief of the agent's store after revocation can at most tell the client
 * it was revoked, which is true.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../bytes.js';
import { isJsonObject } from '../json.js';
import { parsePeerBytes } from './json.js';
import { deriveRendezvous, type Rendezvous } from './remote-v1.js';

/** How long an agent keeps telling a revoked client (30 days). */
export const NOTICE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** The notice key N kept in a revoked pairing record, from the pairing secret S. */
export function revocationNoticeKey(secret: Uint8Array): Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length !== 32) throw new RangeError('secret must be 32 bytes');
  return hkdf(sha256, secret, utf8('burrow agent remote-v1'), utf8('burrow agent remote-v1 revocation notice key'), 32);
}

/** Where the agent tells a revoked client, for one window: derived from the notice key. */
export function noticeRendezvous(noticeKey: Uint8Array, p: { readonly agentId: string; readonly clientId: string; readonly window: number }): Rendezvous {
  return deriveRendezvous('burrow agent remote-v1 revocation notice', noticeKey, { ...p, candidate: 0 });
}

/** The one message sent at the notice rendezvous. */
export function encodeRevocationNotice(revokedAt: number): Uint8Array {
  return utf8(JSON.stringify({ 'remote-v1': { revoked: revokedAt } }));
}

/** Read the notice: when the agent revoked us, or `undefined` if the message is not a notice. Throws `RemoteProtocol` on non-JSON. */
export function parseRevocationNotice(bytes: Uint8Array): { readonly revokedAt: number } | undefined {
  const body = parsePeerBytes(bytes, { maxLength: 1024 }, 'remote-v1', 'the revocation notice')['remote-v1'];
  if (!isJsonObject(body)) return undefined;
  const at = body['revoked'];
  return typeof at === 'number' && Number.isFinite(at) ? { revokedAt: at } : undefined;
}
