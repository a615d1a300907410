import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../src/bytes.js';
import { isWormholeError } from '../src/errors.js';
import { arbitraryElement, passwordToScalar, startSpake2 } from '../src/spake2.js';

interface Side {
  entropy_hex: string;
  entropy_calls: number[];
  xy_scalar_dec: string;
  message_hex: string;
}
interface SymmetricCase {
  name: string;
  password_hex: string;
  id_hex: string;
  pw_scalar_le_hex: string;
  side1: Side;
  side2: Side;
  K_hex: string;
  transcript_hex: string;
  key_hex: string;
}
interface ErrorCase {
  name: string;
  inbound_hex: string;
  recommended_ts: string;
  python_result: string;
  python_key_hex?: string;
}
interface Vectors {
  constants: { Q_dec: string; L_dec: string; base_hex: string; identity_hex: string; M_hex: string; N_hex: string; S_hex: string };
  arbitrary_element: {
    seed_hex: string;
    hkdf_okm48_hex: string;
    y_start_dec: string;
    increments: number;
    point_before_cofactor_hex: string;
    element_hex: string;
  }[];
  password_to_scalar: { pw_hex: string; scalar_dec: string; scalar_le_hex: string }[];
  symmetric: SymmetricCase[];
  symmetric_errors: { receiver: string; cases: ErrorCase[] };
}

const vectors = JSON.parse(
  readFileSync(new URL('./vectors/spake2.json', import.meta.url), 'utf8'),
) as Vectors;

/** 32-byte little-endian hex of a scalar, like python-spake2's scalar_to_bytes. */
function scalarLeHex(n: bigint): string {
  return toHex(fromHex(n.toString(16).padStart(64, '0')).reverse());
}

/** An entropy callback that hands out fixed bytes and records the sizes asked for. */
function fixedEntropy(hex: string): { random: (n: number) => Uint8Array; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    random: (n) => {
      calls.push(n);
      return fromHex(hex).slice(0, n);
    },
  };
}

const symmetricCase = (name: string): SymmetricCase => {
  const c = vectors.symmetric.find((s) => s.name === name);
  if (!c) throw new Error(`missing vector ${name}`);
  return c;
};

describe('SPAKE2 constants', () => {
  it('derives M, N and S from their seeds', () => {
    const { constants } = vectors;
    expect(toHex(arbitraryElement(utf8('M')).element)).toBe(constants.M_hex);
    expect(toHex(arbitraryElement(utf8('N')).element)).toBe(constants.N_hex);
    expect(toHex(arbitraryElement(utf8('symmetric')).element)).toBe(constants.S_hex);
  });

  it('matches the curve constants in the vectors', () => {
    // Sanity: the vector file describes Ed25519 as expected.
    expect(BigInt(vectors.constants.Q_dec)).toBe(2n ** 255n - 19n);
    expect(BigInt(vectors.constants.L_dec)).toBe(2n ** 252n + 27742317777372353535851937790883648493n);
    expect(vectors.constants.identity_hex).toBe(`01${'00'.repeat(31)}`);
  });
});

describe('arbitraryElement', () => {
  for (const v of vectors.arbitrary_element) {
    it(`seed ${JSON.stringify(v.seed_hex)}: ${v.increments} increment(s)`, () => {
      const result = arbitraryElement(fromHex(v.seed_hex));
      expect(result.increments).toBe(v.increments);
      expect(toHex(result.pointBeforeCofactor)).toBe(v.point_before_cofactor_hex);
      expect(toHex(result.element)).toBe(v.element_hex);
      // y_start is the little-endian y of the point minus the increments.
      const y = BigInt(`0x${toHex(result.pointBeforeCofactor.slice().reverse())}`) & ((1n << 255n) - 1n);
      expect(y - BigInt(v.increments)).toBe(BigInt(v.y_start_dec));
    });
  }
});

describe('passwordToScalar', () => {
  for (const v of vectors.password_to_scalar) {
    it(`pw ${JSON.stringify(v.pw_hex)}`, () => {
      const scalar = passwordToScalar(fromHex(v.pw_hex));
      expect(scalar).toBe(BigInt(v.scalar_dec));
      expect(scalarLeHex(scalar)).toBe(v.scalar_le_hex);
    });
  }
});

describe('symmetric exchange', () => {
  for (const c of vectors.symmetric) {
    it(c.name, () => {
      const password = fromHex(c.password_hex);
      const id = fromHex(c.id_hex);
      expect(scalarLeHex(passwordToScalar(password))).toBe(c.pw_scalar_le_hex);

      const e1 = fixedEntropy(c.side1.entropy_hex);
      const e2 = fixedEntropy(c.side2.entropy_hex);
      const s1 = startSpake2({ password, id, random: e1.random });
      const s2 = startSpake2({ password, id, random: e2.random });
      expect(e1.calls).toEqual(c.side1.entropy_calls);
      expect(e2.calls).toEqual(c.side2.entropy_calls);
      expect(toHex(s1.message)).toBe(c.side1.message_hex);
      expect(toHex(s2.message)).toBe(c.side2.message_hex);

      const d1 = s1.finishDetailed(s2.message);
      const d2 = s2.finishDetailed(s1.message);
      for (const d of [d1, d2]) {
        expect(toHex(d.sharedElement)).toBe(c.K_hex);
        expect(toHex(d.transcript)).toBe(c.transcript_hex);
        expect(toHex(d.key)).toBe(c.key_hex);
      }
    });
  }

  it('finish() returns the same key as finishDetailed()', () => {
    const c = symmetricCase('wormhole-text-or-file-xfer');
    const opts = { password: fromHex(c.password_hex), id: fromHex(c.id_hex) };
    const s1 = startSpake2({ ...opts, random: fixedEntropy(c.side1.entropy_hex).random });
    expect(toHex(s1.finish(fromHex(c.side2.message_hex)))).toBe(c.key_hex);
  });

  it('different passwords give different keys', () => {
    const c = symmetricCase('wormhole-text-or-file-xfer');
    const id = fromHex(c.id_hex);
    const s1 = startSpake2({ password: utf8('4-purple-sausages'), id, random: fixedEntropy(c.side1.entropy_hex).random });
    const s2 = startSpake2({ password: utf8('4-purple-sausage'), id, random: fixedEntropy(c.side2.entropy_hex).random });
    expect(toHex(s1.finish(s2.message))).not.toBe(toHex(s2.finish(s1.message)));
  });

  it('a peer sending pw·S (xy = 0) gives K = identity, as python does', () => {
    const c = symmetricCase('wormhole-text-or-file-xfer');
    const password = fromHex(c.password_hex);
    const id = fromHex(c.id_hex);
    const S = ed25519.Point.fromHex(vectors.constants.S_hex);
    const pwS = S.multiply(passwordToScalar(password)).toBytes();
    const s1 = startSpake2({ password, id, random: fixedEntropy(c.side1.entropy_hex).random });
    const d = s1.finishDetailed(concatBytes(Uint8Array.of(0x53), pwS));
    expect(toHex(d.sharedElement)).toBe(vectors.constants.identity_hex);
    expect(toHex(d.key)).toBe(toHex(sha256(d.transcript)));
  });

  it('finish() can only be called once', () => {
    const c = symmetricCase('wormhole-text-or-file-xfer');
    const s1 = startSpake2({
      password: fromHex(c.password_hex),
      id: fromHex(c.id_hex),
      random: fixedEntropy(c.side1.entropy_hex).random,
    });
    s1.finish(fromHex(c.side2.message_hex));
    let err: unknown;
    try {
      s1.finish(fromHex(c.side2.message_hex));
    } catch (e) {
      err = e;
    }
    expect(isWormholeError(err, 'Usage')).toBe(true);
  });

  it('checks its arguments', () => {
    const random = () => new Uint8Array(64);
    expect(() => startSpake2({ password: 'pw' as unknown as Uint8Array, id: new Uint8Array(), random })).toThrow(TypeError);
    expect(() => startSpake2({ password: utf8('pw'), id: new Uint8Array(), random: () => new Uint8Array(32) })).toThrow(
      RangeError,
    );
  });
});

describe('symmetric_errors', () => {
  const receiver = symmetricCase('wormhole-text-or-file-xfer');
  const start = () =>
    startSpake2({
      password: fromHex(receiver.password_hex),
      id: fromHex(receiver.id_hex),
      random: fixedEntropy(receiver.side1.entropy_hex).random,
    });

  it('the receiver is side1 of wormhole-text-or-file-xfer', () => {
    expect(toHex(start().message)).toBe(receiver.side1.message_hex);
  });

  for (const c of vectors.symmetric_errors.cases) {
    if (c.recommended_ts === 'accept') {
      it(`${c.name}: accepted with the honest key`, () => {
        expect(c.python_key_hex).toBe(receiver.key_hex);
        expect(toHex(start().finish(fromHex(c.inbound_hex)))).toBe(c.python_key_hex);
      });
    } else {
      it(`${c.name}: rejected (${c.recommended_ts}; python: ${c.python_result})`, () => {
        expect(c.recommended_ts.startsWith('reject')).toBe(true);
        let err: unknown;
        try {
          start().finish(fromHex(c.inbound_hex));
        } catch (e) {
          err = e;
        }
        expect(isWormholeError(err, 'RemoteProtocol')).toBe(true);
        expect((err as Error).message).toMatch(/^SPAKE2: /);
      });
    }
  }

  it('covers every case in the file', () => {
    expect(vectors.symmetric_errors.cases.length).toBe(15);
    expect(vectors.symmetric_errors.cases.filter((c) => c.recommended_ts === 'accept').map((c) => c.name)).toEqual([
      'valid',
    ]);
  });

  it('names the failure in the message', () => {
    const byName = (name: string) => fromHex(vectors.symmetric_errors.cases.find((c) => c.name === name)!.inbound_hex);
    expect(() => start().finish(byName('reflection'))).toThrow(/reflected/);
    expect(() => start().finish(byName('side-A'))).toThrow(/side A/);
    expect(() => start().finish(byName('trailing-byte-34-bytes'))).toThrow(/33 bytes, got 34/);
    expect(() => start().finish(byName('identity'))).toThrow(/identity/);
    expect(() => start().finish(byName('order-2-point'))).toThrow(/subgroup/);
    expect(() => start().finish(byName('mixed-order-point'))).toThrow(/subgroup/);
    expect(() => start().finish(byName('not-on-curve'))).toThrow(/not a valid curve point/);
  });
});
