import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, fromUtf8, toHex, utf8 } from '../src/bytes.js';
import { deriveKey, derivePhaseKey, deriveTransitKey, deriveVerifier } from '../src/kdf.js';
import { phaseKey, sessionKey } from '../src/keys.js';
import { decryptPhaseMessage, encryptPhaseMessage, openMessage, sealMessage } from '../src/secretbox.js';
import { startSpake2 } from '../src/spake2.js';

interface KdfVectors {
  inputs: { code: string; appid: string; spake2_key_hex: string; side1: string; side2: string };
  pake_message_body: { body_utf8: string };
  derive_key: { purpose_utf8: string; purpose_hex: string; length: number; output_hex: string }[];
  verifier_hex: string;
  derive_phase_key: { side: string; phase: string; purpose_hex: string; output_hex: string }[];
  secretbox: { key_hex: string; nonce_hex: string; plaintext_hex: string; ciphertext_hex: string; box_hex: string }[];
  transit: { transit_key_hex: string };
}
interface SpakeVectors {
  symmetric: { name: string; side1: { entropy_hex: string }; key_hex: string }[];
}

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
const vectors = load<KdfVectors>('wormhole-kdf.json');
const spake = load<SpakeVectors>('spake2.json');

const session = sessionKey(fromHex(vectors.inputs.spake2_key_hex));
const SIDE1 = vectors.inputs.side1;

describe('inputs', () => {
  it('the session key is SPAKE2(code, appid) and side1 sends the pake body', () => {
    const c = spake.symmetric.find((s) => s.name === 'wormhole-text-or-file-xfer')!;
    expect(c.key_hex).toBe(vectors.inputs.spake2_key_hex);
    const s = startSpake2({
      password: utf8(vectors.inputs.code),
      id: utf8(vectors.inputs.appid),
      random: () => fromHex(c.side1.entropy_hex),
    });
    const body = JSON.parse(vectors.pake_message_body.body_utf8) as { pake_v1: string };
    expect(toHex(s.message)).toBe(body.pake_v1);
  });
});

describe('deriveKey', () => {
  for (const v of vectors.derive_key) {
    it(`${v.purpose_utf8} (${v.length} bytes)`, () => {
      expect(toHex(utf8(v.purpose_utf8))).toBe(v.purpose_hex);
      expect(toHex(deriveKey(session, v.purpose_utf8, v.length))).toBe(v.output_hex);
      expect(toHex(deriveKey(session, fromHex(v.purpose_hex), v.length))).toBe(v.output_hex);
    });
  }

  it('defaults to 32 bytes', () => {
    const v = vectors.derive_key.find((d) => d.purpose_utf8 === 'dilation-v1')!;
    expect(toHex(deriveKey(session, 'dilation-v1'))).toBe(v.output_hex);
  });

  it('NFC-normalises string purposes like to_bytes()', () => {
    expect(toHex(deriveKey(session, 'cafe\u0301'))).toBe(toHex(deriveKey(session, utf8('caf\u00e9'))));
  });

  it('checks its arguments', () => {
    expect(() => deriveKey('k' as unknown as Uint8Array, 'x')).toThrow(TypeError);
    expect(() => deriveKey(session, 5 as unknown as string)).toThrow(TypeError);
    expect(() => deriveKey(session, 'x', 0)).toThrow(RangeError);
    expect(() => deriveKey(session, 'x', 255 * 32 + 1)).toThrow(RangeError);
    expect(() => deriveKey(session, 'x', 1.5)).toThrow(RangeError);
  });
});

describe('deriveVerifier / deriveTransitKey', () => {
  it('verifier', () => {
    expect(toHex(deriveVerifier(session))).toBe(vectors.verifier_hex);
  });

  it('transit key', () => {
    expect(toHex(deriveTransitKey(session, vectors.inputs.appid))).toBe(vectors.transit.transit_key_hex);
  });

  it('rejects keys of the wrong length', () => {
    expect(() => deriveVerifier(new Uint8Array(16) as typeof session)).toThrow(RangeError);
  });
});

describe('derivePhaseKey', () => {
  for (const v of vectors.derive_phase_key) {
    it(`side ${v.side}, phase ${v.phase}`, () => {
      expect(toHex(derivePhaseKey(session, v.side, v.phase))).toBe(v.output_hex);
      expect(toHex(deriveKey(session, fromHex(v.purpose_hex)))).toBe(v.output_hex);
    });
  }
});

describe('secretbox', () => {
  for (const [i, v] of vectors.secretbox.entries()) {
    it(`vector ${i}: seal and open`, () => {
      const key = phaseKey(fromHex(v.key_hex));
      const box = sealMessage(key, fromHex(v.plaintext_hex), fromHex(v.nonce_hex));
      expect(toHex(box)).toBe(v.box_hex);
      expect(v.box_hex).toBe(v.nonce_hex + v.ciphertext_hex);
      expect(toHex(openMessage(key, fromHex(v.box_hex))!)).toBe(v.plaintext_hex);
    });
  }

  it('vector 0 is the version message of side1', () => {
    const v = vectors.secretbox[0]!;
    expect(toHex(derivePhaseKey(session, SIDE1, 'version'))).toBe(v.key_hex);
    const pt = decryptPhaseMessage(session, SIDE1, 'version', fromHex(v.box_hex));
    expect(fromUtf8(pt!)).toBe('{"app_versions": {}}');
  });

  it('vector 1 is side1 phase 0', () => {
    const v = vectors.secretbox[1]!;
    const pt = decryptPhaseMessage(session, SIDE1, '0', fromHex(v.box_hex));
    expect(toHex(pt!)).toBe(v.plaintext_hex);
    // Same box under the other side or another phase does not open.
    expect(decryptPhaseMessage(session, vectors.inputs.side2, '0', fromHex(v.box_hex))).toBeUndefined();
    expect(decryptPhaseMessage(session, SIDE1, '1', fromHex(v.box_hex))).toBeUndefined();
  });

  it('encryptPhaseMessage draws the nonce from random(24)', () => {
    const v = vectors.secretbox[0]!;
    const calls: number[] = [];
    const box = encryptPhaseMessage(session, SIDE1, 'version', fromHex(v.plaintext_hex), (n) => {
      calls.push(n);
      return fromHex(v.nonce_hex);
    });
    expect(calls).toEqual([24]);
    expect(toHex(box)).toBe(v.box_hex);
    expect(() => encryptPhaseMessage(session, SIDE1, 'version', new Uint8Array(1), () => new Uint8Array(8))).toThrow(
      RangeError,
    );
  });

  it('openMessage returns undefined on bad input instead of throwing', () => {
    const v = vectors.secretbox[0]!;
    const key = phaseKey(fromHex(v.key_hex));
    const box = fromHex(v.box_hex);
    for (let i = 0; i < box.length; i++) {
      const bad = box.slice();
      bad[i]! ^= 0x01;
      expect(openMessage(key, bad)).toBeUndefined();
    }
    expect(openMessage(key, new Uint8Array(0))).toBeUndefined();
    expect(openMessage(key, box.subarray(0, 39))).toBeUndefined();
    expect(openMessage(key, box.subarray(0, box.length - 1))).toBeUndefined();
    expect(openMessage(phaseKey(new Uint8Array(32)), box)).toBeUndefined();
  });

  it('an empty plaintext gives a 40-byte box', () => {
    const key = phaseKey(new Uint8Array(32).fill(7));
    const box = sealMessage(key, new Uint8Array(0), new Uint8Array(24));
    expect(box.length).toBe(40);
    expect(openMessage(key, box)).toEqual(new Uint8Array(0));
  });

  it('checks its arguments', () => {
    const key = phaseKey(new Uint8Array(32));
    expect(() => sealMessage(key, new Uint8Array(1), new Uint8Array(23))).toThrow(RangeError);
    expect(() => sealMessage(key, 'x' as unknown as Uint8Array, new Uint8Array(24))).toThrow(TypeError);
    expect(() => openMessage(new Uint8Array(31) as typeof key, new Uint8Array(40))).toThrow(RangeError);
  });
});
