/**
 * The Ed25519 curve as SPAKE2 needs it, and nothing else: twisted Edwards
 * point arithmetic (a = −1) over p = 2^255 − 19 with Ed25519's parameters
 * (RFC 8032 §5.1), RFC 8032 point encoding and decoding, and scalar
 * multiplication. Importing `@noble/curves` for this brings its generic
 * field, wNAF and MSM machinery (a fifth of the core bundle) for four scalar
 * multiplications per exchange; this file is that arithmetic in ~100 lines,
 * checked by the SPAKE2 vectors (python-spake2's points, scalars and keys)
 * and, in the tests, against noble's Ed25519.
 *
 * Points use extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z,
 * xy = T/Z, with the complete addition law of Hisil–Wong–Carter–Dawson
 * ("add-2008-hwcd-3", valid for every pair of points since d is not a
 * square). Scalar multiplication runs a fixed 4-bit window over all 256
 * bits, adding a table entry (possibly the identity) at every step: the
 * sequence of field operations does not depend on the scalar's bits. As
 * everywhere in JavaScript, BigInt arithmetic itself is not constant-time.
 */

/** p = 2^255 − 19. */
const P = 2n ** 255n - 19n;
/** The prime order of the base point. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
/** d = −121665/121666 mod p. */
const D = 0x52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3n;
const D2 = (2n * D) % P;
/** A square root of −1 mod p: 2^((p−1)/4). */
const SQRT_M1 = 0x2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0n;

/** Ed25519's curve parameters (RFC 8032 §5.1). */
export const ED25519_CURVE = {
  p: P,
  n: L,
  h: 8n,
  a: P - 1n,
  d: D,
  Gx: 0x216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51an,
  Gy: 0x6666666666666666666666666666666666666666666666666666666666666658n,
} as const;

const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

/** b^e mod p, square-and-multiply (e is public: exponents of p). */
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  for (b = mod(b); e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
}

/** A point in extended coordinates. Immutable. */
export class EdPoint {
  constructor(
    readonly X: bigint,
    readonly Y: bigint,
    readonly Z: bigint,
    readonly T: bigint,
  ) {}

  static readonly ZERO = new EdPoint(0n, 1n, 1n, 0n);
  static readonly BASE = new EdPoint(ED25519_CURVE.Gx, ED25519_CURVE.Gy, 1n, (ED25519_CURVE.Gx * ED25519_CURVE.Gy) % P);

  /**
   * Decode 32 bytes strictly (RFC 8032 §5.1.3): y < p, x recovered from the
   * curve equation, no "−0" (x = 0 with the sign bit set). Throws RangeError.
   */
  static fromBytes(bytes: Uint8Array): EdPoint {
    if (bytes.length !== 32) throw new RangeError('a point is 32 bytes');
    let y = 0n;
    for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i]! & 0x7f : bytes[i]!);
    const sign = bytes[31]! >> 7;
    if (y >= P) throw new RangeError('y is not below p');
    const y2 = (y * y) % P;
    const u = mod(y2 - 1n);
    const v = (D * y2 + 1n) % P;
    // x = u·v³·(u·v⁷)^((p−5)/8), then fix up by √−1 (RFC 8032 §5.1.3 step 3).
    const v3 = (v * v * v) % P;
    let x = (((u * v3) % P) * pow((u * v3 * v3 * v) % P, (P - 5n) / 8n)) % P;
    const vx2 = (v * x * x) % P;
    if (vx2 === mod(-u)) x = (x * SQRT_M1) % P;
    else if (vx2 !== u) throw new RangeError('not a point on the curve');
    if (x === 0n && sign === 1) throw new RangeError('x = 0 with the sign bit set');
    if (Number(x & 1n) !== sign) x = P - x;
    return new EdPoint(x, y, 1n, (x * y) % P);
  }

  /** RFC 8032 encoding: y little-endian, the top bit holding x's parity. */
  toBytes(): Uint8Array {
    const zi = pow(this.Z, P - 2n);
    const x = (this.X * zi) % P;
    let y = (this.Y * zi) % P;
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++, y >>= 8n) out[i] = Number(y & 0xffn);
    out[31]! |= Number(x & 1n) << 7;
    return out;
  }

  /** Complete addition (add-2008-hwcd-3, a = −1). */
  add(o: EdPoint): EdPoint {
    const A = ((this.Y - this.X) * (o.Y - o.X)) % P;
    const B = ((this.Y + this.X) * (o.Y + o.X)) % P;
    const C = (((this.T * D2) % P) * o.T) % P;
    const Dd = (2n * this.Z * o.Z) % P;
    const E = B - A;
    const F = Dd - C;
    const G = Dd + C;
    const H = B + A;
    return new EdPoint(mod(E * F), mod(G * H), mod(F * G), mod(E * H));
  }

  negate(): EdPoint {
    return new EdPoint(mod(-this.X), this.Y, this.Z, mod(-this.T));
  }

  subtract(o: EdPoint): EdPoint {
    return this.add(o.negate());
  }

  /** Projective equality. */
  equals(o: EdPoint): boolean {
    return mod(this.X * o.Z - o.X * this.Z) === 0n && mod(this.Y * o.Z - o.Y * this.Z) === 0n;
  }

  is0(): boolean {
    return this.equals(EdPoint.ZERO);
  }

  /** `k·this` for 0 ≤ k < 2^256 (0 gives the identity). */
  multiply(k: bigint): EdPoint {
    if (k < 0n || k >= 1n << 256n) throw new RangeError('scalar out of range');
    const table: EdPoint[] = [EdPoint.ZERO, this];
    for (let i = 2; i < 16; i++) table.push(table[i - 1]!.add(this));
    let acc = EdPoint.ZERO;
    for (let shift = 252n; shift >= 0n; shift -= 4n) {
      for (let i = 0; i < 4; i++) acc = acc.add(acc);
      acc = acc.add(table[Number((k >> shift) & 15n)]!);
    }
    return acc;
  }

  /** ×8: the cofactor. */
  clearCofactor(): EdPoint {
    const p2 = this.add(this);
    const p4 = p2.add(p2);
    return p4.add(p4);
  }

  /** In the prime-order subgroup: L·this is the identity. */
  isTorsionFree(): boolean {
    return this.multiply(L).is0();
  }
}
