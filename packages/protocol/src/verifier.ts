/**
 * The verifier as words people can read to each other: the first bytes of
 * the 32-byte verifier mapped through the PGP word list (odd, even, odd, …),
 * the same lists the codes use. Both sides show the same words exactly when
 * they share the key.
 */
import { abytes } from './bytes.js';
import { wordForByte } from './wordlist.js';

/** Default: 6 words = 48 bits, enough that a man in the middle cannot match them by luck. */
export function verifierWords(verifier: Uint8Array, count = 6): string[] {
  abytes(verifier, 'verifier');
  if (!Number.isInteger(count) || count < 1 || count > verifier.length) {
    throw new RangeError(`count must be an integer from 1 to ${verifier.length}`);
  }
  return Array.from(verifier.subarray(0, count), (byte, i) => wordForByte(byte, i));
}
