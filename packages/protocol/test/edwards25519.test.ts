import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { ED25519_CURVE, EdPoint } from '../src/edwards25519.js';
import { seededRandom } from '@burrow/testkit';

const { p: P, n: L } = ED25519_CURVE;
const scalarFrom = (bytes: Uint8Array): bigint => BigInt(`0x${toHex(bytes)}`);

describe('edwards25519 (checked against noble Ed25519)', () => {
  it('√−1 squares to −1 and the base point is noble’s', () => {
    const sqrtM1 = 0x2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0n;
    expect((sqrtM1 * sqrtM1) % P).toBe(P - 1n);
    expect(toHex(EdPoint.BASE.toBytes())).toBe(ed25519.Point.BASE.toHex());
  });

  it('multiplies, adds, subtracts and encodes like noble', () => {
    const random = seededRandom(7);
    const edges = [0n, 1n, 2n, 15n, 16n, L - 1n, L, L + 1n, 2n ** 256n - 1n];
    const scalars = [...edges, ...Array.from({ length: 12 }, () => scalarFrom(random(32)))];
    for (const k of scalars) {
      const ours = EdPoint.BASE.multiply(k);
      const theirs = k % L === 0n ? ed25519.Point.ZERO : ed25519.Point.BASE.multiply(k % L);
      expect(toHex(ours.toBytes())).toBe(theirs.toHex());
      const q = EdPoint.fromBytes(ours.toBytes());
      expect(q.equals(ours)).toBe(true);
      expect(toHex(q.add(EdPoint.BASE).subtract(EdPoint.BASE).toBytes())).toBe(theirs.toHex());
    }
  });

  it('decodes strictly: y ≥ p, points off the curve and −0 are refused', () => {
    const pBytes = new Uint8Array(32);
    let y = P;
    for (let i = 0; i < 32; i++, y >>= 8n) pBytes[i] = Number(y & 0xffn);
    expect(() => EdPoint.fromBytes(pBytes)).toThrow(RangeError);
    const minusZero = EdPoint.ZERO.toBytes();
    minusZero[31]! |= 0x80;
    expect(() => EdPoint.fromBytes(minusZero)).toThrow(RangeError);
    let offCurve = 0;
    for (let v = 2; v < 40; v++) {
      const enc = new Uint8Array(32);
      enc[0] = v;
      let noble = true;
      try {
        ed25519.Point.fromBytes(enc);
      } catch {
        noble = false;
      }
      if (noble) expect(toHex(EdPoint.fromBytes(enc).toBytes())).toBe(toHex(enc));
      else {
        offCurve++;
        expect(() => EdPoint.fromBytes(enc)).toThrow(RangeError);
      }
    }
    expect(offCurve).toBeGreaterThan(0);
  });

  it('tells the prime-order subgroup from points with a torsion part', () => {
    expect(EdPoint.BASE.multiply(12345n).isTorsionFree()).toBe(true);
    // A point of order 8 (noble's small-order table entry), and base + it.
    const small = EdPoint.fromBytes(ed25519.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a').toBytes());
    expect(small.is0()).toBe(false);
    expect(small.isTorsionFree()).toBe(false);
    expect(small.clearCofactor().is0()).toBe(true);
    expect(EdPoint.BASE.add(small).isTorsionFree()).toBe(false);
  });
});
