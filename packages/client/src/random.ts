/**
 * The one default random source: Web Crypto's `getRandomValues`, present in
 * browsers, workers, Deno and Node ≥ 19. Looked up when called, never at
 * import, so a page without Web Crypto fails where randomness is needed with
 * a clear error instead of at load time.
 */
import { WormholeError, type RandomSource } from '@burrow/protocol';

/** `length` random bytes from `crypto.getRandomValues` (in 64 KiB slices, its limit). */
export const systemRandom: RandomSource = (length) => {
  const crypto = (globalThis as { crypto?: { getRandomValues<T extends ArrayBufferView>(a: T): T } }).crypto;
  if (!crypto?.getRandomValues) throw new WormholeError('Usage', 'no Web Crypto here: pass a random source');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65_536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65_536)));
  return out;
};
