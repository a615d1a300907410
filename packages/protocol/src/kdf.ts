/**
 * magic-wormhole key derivation (`wormhole/_key.py`): HKDF-SHA256 with no
 * salt (RFC 5869 treats that as 32 zero bytes), the session key as input key
 * material and a purpose string as `info`.
 */

import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, concatBytes, utf8 } from './bytes.js';
import { KEY_LENGTH, type PhaseKey, type SessionKey, type TransitKey } from './keys.js';

/** RFC 5869 limit for HKDF-SHA256 output. */
const MAX_OUTPUT = 255 * 32;

function purposeBytes(purpose: string | Uint8Array): Uint8Array {
  // Strings go through NFC like magic-wormhole's `to_bytes()`.
  if (typeof purpose === 'string') return utf8(purpose.normalize('NFC'));
  if (purpose instanceof Uint8Array) return purpose;
  throw new TypeError('purpose must be a string or a Uint8Array');
}

/**
 * `derive_key(key, purpose, length)`: HKDF-SHA256(salt = none, ikm = key,
 * info = purpose). A string purpose is NFC-normalised and UTF-8 encoded.
 *
 * @example
 * const verifier = deriveKey(session, 'wormhole:verifier'); // 32 bytes
 */
export function deriveKey(key: Uint8Array, purpose: string | Uint8Array, length: number = KEY_LENGTH): Uint8Array {
  abytes(key, 'key');
  const info = purposeBytes(purpose);
  if (typeof length !== 'number') throw new TypeError('length must be a number');
  if (!Number.isInteger(length) || length < 1 || length > MAX_OUTPUT) {
    throw new RangeError(`length must be an integer in 1..${MAX_OUTPUT}, got ${length}`);
  }
  return hkdf(sha256, key, undefined, info, length);
}

/**
 * `derive_phase_key(key, side, phase)`: the key for the mailbox message that
 * `side` (the sender's side id) sends in `phase` (`"version"`, `"0"`, …).
 *
 * @example
 * const k = derivePhaseKey(session, '8c4a1b2f3e', 'version');
 */
export function derivePhaseKey(key: SessionKey, side: string, phase: string): PhaseKey {
  abytes(key, 'key', KEY_LENGTH);
  if (typeof side !== 'string') throw new TypeError('side must be a string');
  if (typeof phase !== 'string') throw new TypeError('phase must be a string');
  const purpose = concatBytes(utf8('wormhole:phase:'), sha256(utf8(side)), sha256(utf8(phase)));
  return deriveKey(key, purpose) as PhaseKey;
}

/**
 * The verifier both sides can compare out of band: `derive_key(key, "wormhole:verifier")`.
 *
 * @example
 * toHex(deriveVerifier(session)); // what `wormhole --verify` prints
 */
export function deriveVerifier(key: SessionKey): Uint8Array {
  abytes(key, 'key', KEY_LENGTH);
  return deriveKey(key, 'wormhole:verifier');
}

/**
 * The transit key: `derive_key(key, appid + "/transit-key")`. The CLI always
 * uses appid `lothar.com/wormhole/text-or-file-xfer` here (upstream #339).
 *
 * @example
 * const tk = deriveTransitKey(session, 'lothar.com/wormhole/text-or-file-xfer');
 */
export function deriveTransitKey(key: SessionKey, appid: string): TransitKey {
  abytes(key, 'key', KEY_LENGTH);
  if (typeof appid !== 'string') throw new TypeError('appid must be a string');
  return deriveKey(key, `${appid}/transit-key`) as TransitKey;
}
