/**
 * The secretbox primitive under Transit records, injectable: XSalsa20-Poly1305
 * in NaCl's combined layout (`mac(16) ‖ ciphertext`, nonce carried apart) —
 * libsodium's `crypto_secretbox_easy`, PyNaCl's `SecretBox`, noble's
 * `xsalsa20poly1305`. The default here is noble (pure JS, runs anywhere);
 * a platform may hand the record codec a native one (Node: libsodium through
 * `@burrow/client/node`). Every implementation must give the same bytes.
 */

import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { MAC_LENGTH } from '../secretbox.js';

/**
 * Bytes in front of a seal's output that {@link SecretBox.seal} may use as
 * scratch. The record encoder puts its length prefix and nonce there after
 * sealing, so a frame is built in one buffer with no copy.
 */
export const SEAL_HEADROOM = 16;

/** XSalsa20-Poly1305 secretbox: seal and open one message. */
export interface SecretBox {
  /** What it is, for logs ("noble", "libsodium"). */
  readonly name: string;
  /**
   * Seal `plaintext` under `key` and `nonce`, writing `mac ‖ ciphertext` to
   * `out[offset, offset + plaintext.length + 16)`. `offset` is at least
   * {@link SEAL_HEADROOM}; the implementation may overwrite the
   * {@link SEAL_HEADROOM} bytes before `offset` (the caller fills them after).
   * `plaintext` must not overlap `out`.
   */
  seal(out: Uint8Array, offset: number, plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): void;
  /**
   * Open `mac ‖ ciphertext`; returns the plaintext (owned by the caller), or
   * `undefined` when it does not authenticate. Never throws on what a peer
   * sent. The caller owns `box` and gives it up: an implementation may
   * decrypt in place and return a view into it.
   */
  open(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | undefined;
}

/**
 * The pure-JS secretbox (@noble/ciphers). Sealing writes straight into the
 * caller's buffer: noble wants 32 scratch bytes in front of the ciphertext,
 * which are the 16 of the MAC plus {@link SEAL_HEADROOM}.
 */
export const nobleSecretBox: SecretBox = {
  name: 'noble',
  seal(out, offset, plaintext, nonce, key) {
    if (offset < SEAL_HEADROOM) throw new RangeError(`seal offset must be at least ${SEAL_HEADROOM}`);
    const end = offset + MAC_LENGTH + plaintext.length;
    xsalsa20poly1305(key, nonce).encrypt(plaintext, out.subarray(offset - SEAL_HEADROOM, end));
  },
  open(box, nonce, key) {
    if (box.length < MAC_LENGTH) return undefined;
    try {
      return xsalsa20poly1305(key, nonce).decrypt(box);
    } catch {
      return undefined;
    }
  },
};
