/**
 * A deterministic `random(n)` (xorshift32) for tests: the same seed gives the
 * same sides, codes, SPAKE2 scalars and nonces. Never use it outside tests.
 * Pure (no Node APIs), so protocol and browser-side tests can import it too.
 */
export function seededRandom(seed = 0x9e3779b9): (n: number) => Uint8Array {
  let s = seed >>> 0 || 0x9e3779b9;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = s & 0xff;
    }
    return out;
  };
}

/**
 * The same code with its last word changed: the wrong code for a test. Never
 * returns `code` itself (a fixed replacement word would be the real one once
 * in 256 runs).
 */
export function wrongCode(code: string): string {
  const last = /-([^-]+)$/.exec(code)?.[1];
  if (last === undefined) throw new Error(`not a code: ${code}`);
  return code.replace(/-[^-]+$/, last === 'aardvark' ? '-absurd' : '-aardvark');
}
