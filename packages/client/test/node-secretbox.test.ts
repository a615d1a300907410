// libsodium (sodium-native) and noble seal and open Transit records alike:
// both run the PyNaCl vectors of packages/protocol/test/vectors, and each
// opens what the other sealed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  RecordDecoder,
  RecordEncoder,
  SEAL_HEADROOM,
  fromHex,
  nobleSecretBox,
  recordKey,
  toHex,
  utf8,
  type SecretBox,
} from '@burrow/protocol';
import { nodeSecretBox } from '@burrow/client/node';

interface Vectors {
  secretbox: { key_hex: string; nonce_hex: string; plaintext_hex: string; ciphertext_hex: string }[];
  transit: {
    record_sender_key_hex: string;
    record0_from_sender: { plaintext_utf8: string; wire_hex: string };
  };
}

// The shared PyNaCl vectors live with the protocol tests (data, not code).
const vectors = JSON.parse(
  readFileSync(new URL('../../protocol/test/vectors/wormhole-kdf.json', import.meta.url), 'utf8'),
) as Vectors;

const sodium = nodeSecretBox();
const boxes: [string, SecretBox][] = [
  ['noble', nobleSecretBox],
  ['libsodium', sodium],
];

function seal(box: SecretBox, plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(SEAL_HEADROOM + 16 + plaintext.length).fill(0xee);
  box.seal(out, SEAL_HEADROOM, plaintext, nonce, key);
  return out.subarray(SEAL_HEADROOM);
}

describe('transit secretbox: noble and libsodium', () => {
  it('libsodium loads here (sodium-native prebuilds)', () => {
    expect(sodium.name).toBe('libsodium');
  });

  describe.each(boxes)('%s', (_name, box) => {
    it('seals and opens the PyNaCl secretbox vectors', () => {
      for (const v of vectors.secretbox) {
        const key = fromHex(v.key_hex);
        const nonce = fromHex(v.nonce_hex);
        expect(toHex(seal(box, fromHex(v.plaintext_hex), nonce, key))).toBe(v.ciphertext_hex);
        expect(toHex(box.open(fromHex(v.ciphertext_hex), nonce, key)!)).toBe(v.plaintext_hex);
      }
    });

    it('refuses a flipped bit, a wrong nonce and a box shorter than the MAC, without throwing', () => {
      const v = vectors.secretbox[0]!;
      const key = fromHex(v.key_hex);
      const nonce = fromHex(v.nonce_hex);
      const ct = fromHex(v.ciphertext_hex);
      for (const i of [0, 15, 16, ct.length - 1]) {
        const bad = ct.slice();
        bad[i]! ^= 1;
        expect(box.open(bad, nonce, key)).toBeUndefined();
      }
      expect(box.open(ct, new Uint8Array(24), key)).toBeUndefined();
      expect(box.open(ct.subarray(0, 15), nonce, key)).toBeUndefined();
      expect(box.open(new Uint8Array(16), nonce, key)).toBeUndefined();
    });

    it('frames the Transit v1 record vector', () => {
      const t = vectors.transit;
      const key = recordKey(fromHex(t.record_sender_key_hex));
      const wire = new RecordEncoder(key, { secretBox: box }).encode(utf8(t.record0_from_sender.plaintext_utf8));
      expect(toHex(wire)).toBe(t.record0_from_sender.wire_hex);
      const into = new Uint8Array(wire.length + 3);
      expect(new RecordEncoder(key, { secretBox: box }).encodeInto(utf8(t.record0_from_sender.plaintext_utf8), into, 3)).toBe(wire.length);
      expect(toHex(into.subarray(3))).toBe(t.record0_from_sender.wire_hex);
      const [record] = new RecordDecoder(key, { secretBox: box }).push(fromHex(t.record0_from_sender.wire_hex));
      expect(new TextDecoder().decode(record)).toBe(t.record0_from_sender.plaintext_utf8);
    });
  });

  it('each opens what the other sealed, records of every size, split anywhere, input not copied', () => {
    const key = recordKey(new Uint8Array(randomBytes(32)));
    const sizes = [0, 1, 15, 16, 17, 4096, 65_536, 65_537, 300_000];
    const plaintexts = sizes.map((n) => new Uint8Array(randomBytes(n)));
    for (const [from, to] of [
      [nobleSecretBox, sodium],
      [sodium, nobleSecretBox],
    ] as const) {
      const enc = new RecordEncoder(key, { secretBox: from });
      const wire = Buffer.concat(plaintexts.map((p) => enc.encode(p)));
      const dec = new RecordDecoder(key, { secretBox: to, copyInput: false });
      const got: Uint8Array[] = [];
      for (let at = 0; at < wire.length; at += 7_777) got.push(...dec.push(new Uint8Array(wire.subarray(at, at + 7_777))));
      expect(got.map((r) => toHex(r))).toEqual(plaintexts.map((p) => toHex(p)));
      expect(dec.buffered).toBe(0);
    }
  });

  it('a tampered record fails the decoder with RemoteProtocol under libsodium', () => {
    const key = recordKey(new Uint8Array(randomBytes(32)));
    const frame = new RecordEncoder(key, { secretBox: sodium }).encode(utf8('hello'));
    frame[frame.length - 1]! ^= 1;
    expect(() => new RecordDecoder(key, { secretBox: sodium }).push(frame)).toThrow(
      expect.objectContaining({ code: 'RemoteProtocol', message: expect.stringContaining('failed authentication') }),
    );
  });

  it('falls back to noble with a debug log when sodium-native does not load', () => {
    const logged: [string, Record<string, unknown> | undefined][] = [];
    const box = nodeSecretBox({ debug: (m, f) => logged.push([m, f]) }, () => {
      throw new Error('no addon for this platform');
    });
    expect(box).toBe(nobleSecretBox);
    expect(logged).toEqual([[expect.stringContaining('sodium-native did not load'), { reason: 'no addon for this platform' }]]);
  });
});
