/**
 * Transit records sealed and opened by libsodium (`sodium-native`, whose
 * prebuilt binaries ship inside the npm package): the same
 * XSalsa20-Poly1305 secretbox as noble's, about 15× faster. When the addon
 * cannot load (an unsupported platform, a stripped install) Transit keeps
 * the pure-JS noble box and says so at debug level.
 */
import { createRequire } from 'node:module';
import { MAC_LENGTH, nobleSecretBox, type Logger, type SecretBox } from '@burrow/protocol';

/** The two libsodium calls we use, as sodium-native exposes them. */
export interface SodiumSecretbox {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
}

/** A secretbox over sodium-native's bindings. */
export function sodiumBox(sodium: SodiumSecretbox): SecretBox {
  return {
    name: 'libsodium',
    seal(out, offset, plaintext, nonce, key) {
      sodium.crypto_secretbox_easy(out.subarray(offset, offset + MAC_LENGTH + plaintext.length), plaintext, nonce, key);
    },
    open(box, nonce, key) {
      if (box.length < MAC_LENGTH) return undefined;
      // In place (the box is ours to overwrite; libsodium handles the overlap): no allocation per record.
      const plaintext = box.subarray(0, box.length - MAC_LENGTH);
      return sodium.crypto_secretbox_open_easy(plaintext, box, nonce, key) ? plaintext : undefined;
    },
  };
}

/** How sodium-native is loaded (a parameter so tests can make it fail). */
export type SodiumLoader = () => SodiumSecretbox;

const requireSodium: SodiumLoader = () => createRequire(import.meta.url)('sodium-native') as SodiumSecretbox;
let cached: { box: SecretBox; error?: unknown } | undefined;

function load(loader: SodiumLoader): { box: SecretBox; error?: unknown } {
  try {
    return { box: sodiumBox(loader()) };
  } catch (error) {
    return { box: nobleSecretBox, error };
  }
}

/**
 * The fastest secretbox this process has: libsodium when `sodium-native`
 * loads, else noble, with the reason logged at debug level.
 *
 * @example
 * const enc = new RecordEncoder(keys.send, { secretBox: nodeSecretBox() });
 */
export function nodeSecretBox(logger?: Logger, loader?: SodiumLoader): SecretBox {
  const got = loader ? load(loader) : (cached ??= load(requireSodium));
  if (got.error !== undefined) {
    logger?.debug?.('transit: sodium-native did not load; records use the pure-JS secretbox', {
      reason: got.error instanceof Error ? got.error.message : String(got.error),
    });
  }
  return got.box;
}
