/**
 * SHA-256 for the hashing Worker (worker-hasher.ts): WebAssembly (hash-wasm,
 * about twice noble's speed here) where it compiles — a page's CSP may
 * forbid WebAssembly — else noble. Bundled into the Worker script only.
 */
import { createSHA256 } from 'hash-wasm';
import { createSha256, type Hasher } from '@burrow/protocol';

/** A SHA-256 {@link Hasher}: WebAssembly where it runs, else pure JS. */
export async function fastSha256(): Promise<Hasher> {
  try {
    const h = await createSHA256();
    h.init();
    return { update: (data) => void h.update(data), hexDigest: () => h.digest('hex') };
  } catch {
    return createSha256();
  }
}
