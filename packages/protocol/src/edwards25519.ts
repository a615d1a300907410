/**
 * The Ed25519 curve as SPAKE2 needs it: twisted Edwards point arithmetic with
 * Ed25519's parameters, and nothing else. Importing `@noble/curves/ed25519`
 * would also bring EdDSA, SHA-512, FROST, OPRF and hash-to-curve (about a
 * quarter of the core bundle) and build some of them at import time; the
 * abstract curve with these constants is all SPAKE2 uses.
 *
 * The constants are Ed25519's (RFC 8032 §5.1): p = 2^255 − 19, the prime
 * order n of the base point, cofactor 8, a = −1, d = −121665/121666, and the
 * base point (x, 4/5).
 */
import { edwards, type EdwardsPointCons } from '@noble/curves/abstract/edwards.js';

const P = 2n ** 255n - 19n;

/** Ed25519's curve parameters. */
export const ED25519_CURVE = {
  p: P,
  n: 2n ** 252n + 27742317777372353535851937790883648493n,
  h: 8n,
  a: P - 1n,
  d: 0x52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3n,
  Gx: 0x216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51an,
  Gy: 0x6666666666666666666666666666666666666666666666666666666666666658n,
} as const;

let cons: EdwardsPointCons | undefined;

/** The point constructor, built on first use (never at import). */
export function ed25519Point(): EdwardsPointCons {
  return (cons ??= edwards(ED25519_CURVE));
}
