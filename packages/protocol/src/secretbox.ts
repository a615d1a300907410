/**
 * NaCl secretbox (XSalsa20-Poly1305) in PyNaCl's layout:
 * `nonce(24) ‖ mac(16) ‖ encrypted data`. Opening never throws on what a peer
 * sent: a forged, truncated or garbled box gives `undefined`.
 */

import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { abytes, concatBytes } from './bytes.js';
import { derivePhaseKey } from './kdf.js';
import { KEY_LENGTH, type PhaseKey, type RecordKey, type SessionKey } from './keys.js';

/** XSalsa20 nonce length. */
export const NONCE_LENGTH = 24;
/** Poly1305 tag length. */
export const MAC_LENGTH = 16;
/** Bytes a box adds to its plaintext. */
export const BOX_OVERHEAD = NONCE_LENGTH + MAC_LENGTH;

/** Keys that may encrypt data directly. The session key may not. */
export type BoxKey = PhaseKey | RecordKey;

/**
 * Encrypt `plaintext` under `key` with the given 24-byte nonce and return
 * `nonce ‖ ciphertext`, exactly as PyNaCl `SecretBox(key).encrypt(pt, nonce)`.
 *
 * @example
 * const box = sealMessage(phaseKey, utf8('{"app_versions": {}}'), random(24));
 */
export function sealMessage(key: BoxKey, plaintext: Uint8Array, nonce: Uint8Array): Uint8Array {
  abytes(key, 'key', KEY_LENGTH);
  abytes(plaintext, 'plaintext');
  abytes(nonce, 'nonce', NONCE_LENGTH);
  return concatBytes(nonce, xsalsa20poly1305(key, nonce).encrypt(plaintext));
}

/**
 * Open a `nonce ‖ ciphertext` box. Returns the plaintext, or `undefined` when
 * the box is too short or fails authentication.
 *
 * @example
 * const pt = openMessage(phaseKey, box);
 * if (pt === undefined) throw new WormholeError('WrongPassword', '…');
 */
export function openMessage(key: BoxKey, box: Uint8Array): Uint8Array | undefined {
  abytes(key, 'key', KEY_LENGTH);
  abytes(box, 'box');
  if (box.length < BOX_OVERHEAD) return undefined;
  const nonce = box.subarray(0, NONCE_LENGTH);
  try {
    return xsalsa20poly1305(key, nonce).decrypt(box.subarray(NONCE_LENGTH));
  } catch {
    return undefined;
  }
}

/**
 * Encrypt a mailbox message: key = phase key of (`side`, `phase`), where
 * `side` is the sender's own side; nonce from `random(24)`.
 *
 * @example
 * const body = toHex(encryptPhaseMessage(session, mySide, '0', data, random));
 */
export function encryptPhaseMessage(
  key: SessionKey,
  side: string,
  phase: string,
  plaintext: Uint8Array,
  random: (n: number) => Uint8Array,
): Uint8Array {
  if (typeof random !== 'function') throw new TypeError('random must be a function');
  const phaseKey = derivePhaseKey(key, side, phase);
  const nonce = random(NONCE_LENGTH);
  abytes(nonce, 'random(24) result', NONCE_LENGTH);
  return sealMessage(phaseKey, plaintext, nonce);
}

/**
 * Decrypt a mailbox message sent by `side` in `phase`. `undefined` when it
 * does not authenticate (wrong code, or tampering).
 *
 * @example
 * const pt = decryptPhaseMessage(session, theirSide, 'version', fromHex(body));
 */
export function decryptPhaseMessage(
  key: SessionKey,
  side: string,
  phase: string,
  box: Uint8Array,
): Uint8Array | undefined {
  return openMessage(derivePhaseKey(key, side, phase), box);
}
