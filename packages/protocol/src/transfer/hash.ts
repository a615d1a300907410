/**
 * Incremental SHA-256 for the transfer's end-to-end check (the receiver's
 * `{"ack": "ok", "sha256": …}`). A platform may inject a faster one (Node's
 * `crypto.createHash`) through the same small interface.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../bytes.js';

export interface Hasher {
  update(data: Uint8Array): void;
  /** Lowercase hex digest; call once. */
  hexDigest(): string;
}

/**
 * SHA-256 in pure JS (@noble/hashes).
 *
 * @example
 * const h = createSha256(); h.update(chunk); h.hexDigest();
 */
export function createSha256(): Hasher {
  const h = sha256.create();
  return {
    update: (data) => void h.update(data),
    hexDigest: () => toHex(h.digest()),
  };
}
