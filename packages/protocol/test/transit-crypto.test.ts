import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, fromUtf8, toHex, utf8 } from '../src/bytes.js';
import { isWormholeError } from '../src/errors.js';
import { recordKey, transitKey } from '../src/keys.js';
import { receiverHandshake, recordKeys, relayHandshake, senderHandshake, TRANSIT_GO } from '../src/transit/crypto.js';
import { DEFAULT_MAX_RECORD_LENGTH, RecordDecoder, RecordEncoder } from '../src/transit/records.js';

interface TransitVectors {
  transit: {
    transit_key_hex: string;
    sender_handshake_ascii: string;
    receiver_handshake_ascii: string;
    relay_side: string;
    relay_handshake_ascii: string;
    record_sender_key_hex: string;
    record_receiver_key_hex: string;
    record0_from_sender: { plaintext_utf8: string; nonce_hex: string; wire_hex: string };
  };
}

const { transit: v } = JSON.parse(
  readFileSync(new URL('./vectors/wormhole-kdf.json', import.meta.url), 'utf8'),
) as TransitVectors;
const tk = transitKey(fromHex(v.transit_key_hex));
const record0 = fromHex(v.record0_from_sender.wire_hex);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('transit handshakes', () => {
  it('sender and receiver lines', () => {
    expect(fromUtf8(senderHandshake(tk))).toBe(v.sender_handshake_ascii);
    expect(fromUtf8(receiverHandshake(tk))).toBe(v.receiver_handshake_ascii);
    expect(fromUtf8(TRANSIT_GO)).toBe('go\n');
  });

  it('relay line', () => {
    expect(fromUtf8(relayHandshake(tk, v.relay_side))).toBe(v.relay_handshake_ascii);
  });

  it('relay side must be 16 lowercase hex characters', () => {
    expect(() => relayHandshake(tk, '0123456789')).toThrow(RangeError);
    expect(() => relayHandshake(tk, '0123456789ABCDEF')).toThrow(RangeError);
    expect(() => relayHandshake(tk, 7 as unknown as string)).toThrow(TypeError);
  });

  it('record keys for each role', () => {
    const sender = recordKeys(tk, 'sender');
    const receiver = recordKeys(tk, 'receiver');
    expect(toHex(sender.send)).toBe(v.record_sender_key_hex);
    expect(toHex(sender.receive)).toBe(v.record_receiver_key_hex);
    expect(toHex(receiver.send)).toBe(v.record_receiver_key_hex);
    expect(toHex(receiver.receive)).toBe(v.record_sender_key_hex);
  });
});

describe('RecordEncoder', () => {
  it('reproduces record0_from_sender on the wire', () => {
    const enc = new RecordEncoder(recordKeys(tk, 'sender').send);
    const frame = enc.encode(utf8(v.record0_from_sender.plaintext_utf8));
    expect(toHex(frame)).toBe(v.record0_from_sender.wire_hex);
    expect(toHex(frame.subarray(4, 28))).toBe(v.record0_from_sender.nonce_hex);
    expect(enc.count).toBe(1);
  });

  it('counts nonces big-endian from 0', () => {
    const enc = new RecordEncoder(recordKey(new Uint8Array(32)));
    const frames = Array.from({ length: 258 }, () => enc.encode(new Uint8Array(0)));
    expect(toHex(frames[0]!.subarray(0, 4))).toBe('00000028');
    expect(toHex(frames[1]!.subarray(4, 28))).toBe(`${'00'.repeat(23)}01`);
    expect(toHex(frames[257]!.subarray(4, 28))).toBe(`${'00'.repeat(22)}0101`);
  });

  it('encodeInto writes the same frames back to back into one buffer, and refuses one that does not fit', () => {
    const plaintexts = ['', 'a', 'bb', 'x'.repeat(1000)].map(utf8);
    const enc = new RecordEncoder(recordKeys(tk, 'sender').send);
    const ref = new RecordEncoder(recordKeys(tk, 'sender').send);
    const expected = concatBytes(...plaintexts.map((p) => ref.encode(p)));
    const out = new Uint8Array(7 + expected.length).fill(0xee);
    let at = 7;
    for (const p of plaintexts) at += enc.encodeInto(p, out, at);
    expect(at).toBe(out.length);
    expect(toHex(out.subarray(0, 7))).toBe('ee'.repeat(7));
    expect(toHex(out.subarray(7))).toBe(toHex(expected));
    expect(enc.count).toBe(4);
    expect(() => enc.encodeInto(utf8('too long'), out, out.length - 8)).toThrow(RangeError);
    expect(enc.count).toBe(4);
    const first = new RecordEncoder(recordKeys(tk, 'sender').send);
    const one = new Uint8Array(100);
    const n = first.encodeInto(utf8(v.record0_from_sender.plaintext_utf8), one, 0);
    expect(toHex(one.subarray(0, n))).toBe(v.record0_from_sender.wire_hex);
  });
});

describe('RecordDecoder', () => {
  const receiveKey = recordKeys(tk, 'receiver').receive;

  it('decodes record0_from_sender', () => {
    const dec = new RecordDecoder(receiveKey);
    const out = dec.push(record0);
    expect(out.map(fromUtf8)).toEqual([v.record0_from_sender.plaintext_utf8]);
    expect(dec.count).toBe(1);
    expect(dec.buffered).toBe(0);
  });

  it('accepts the stream fed byte by byte', () => {
    const enc = new RecordEncoder(recordKeys(tk, 'sender').send);
    const plaintexts = ['first record', '', 'x'.repeat(1000), 'last'];
    const frames = plaintexts.map((p) => enc.encode(utf8(p)));
    const wire = concatBytes(...frames);
    expect(toHex(frames[0]!)).toBe(v.record0_from_sender.wire_hex);
    const frameEnds = new Set<number>();
    let end = 0;
    for (const f of frames) frameEnds.add((end += f.length) - 1);

    const dec = new RecordDecoder(receiveKey);
    const got: string[] = [];
    for (let i = 0; i < wire.length; i++) {
      const out = dec.push(wire.subarray(i, i + 1));
      // A record comes out exactly when its last byte arrives.
      expect(out.length).toBe(frameEnds.has(i) ? 1 : 0);
      got.push(...out.map(fromUtf8));
    }
    expect(got).toEqual(plaintexts);
    expect(dec.buffered).toBe(0);
    expect(dec.count).toBe(4);
  });

  it('accepts several records in one chunk and split at odd places', () => {
    const enc = new RecordEncoder(recordKeys(tk, 'sender').send);
    const wire = concatBytes(...['a', 'bb', 'ccc', 'dddd', 'eeeee'].map((p) => enc.encode(utf8(p))));
    const dec = new RecordDecoder(receiveKey);
    const got = [
      ...dec.push(wire.subarray(0, 2)),
      ...dec.push(wire.subarray(2, 100)),
      ...dec.push(new Uint8Array(0)),
      ...dec.push(wire.subarray(100)),
    ].map(fromUtf8);
    expect(got).toEqual(['a', 'bb', 'ccc', 'dddd', 'eeeee']);
  });

  it('does not depend on the caller keeping its chunk intact', () => {
    const dec = new RecordDecoder(receiveKey);
    const chunk = record0.slice(0, 30);
    expect(dec.push(chunk)).toEqual([]);
    chunk.fill(0);
    expect(dec.push(record0.subarray(30)).map(fromUtf8)).toEqual([v.record0_from_sender.plaintext_utf8]);
  });

  it('rejects an oversized length before the body arrives', () => {
    const dec = new RecordDecoder(receiveKey, { maxRecordLength: 1024 });
    const err = thrown(() => dec.push(fromHex('00000401')));
    expect(isWormholeError(err, 'RemoteProtocol')).toBe(true);
    expect((err as Error).message).toMatch(/exceeds the limit of 1024/);
    // The decoder stays failed.
    expect(thrown(() => dec.push(record0))).toBe(err);
  });

  it('has a 16 MiB default bound', () => {
    expect(DEFAULT_MAX_RECORD_LENGTH).toBe(16 * 1024 * 1024);
    const ok = new RecordDecoder(receiveKey);
    expect(ok.push(fromHex('01000000'))).toEqual([]); // exactly the limit: waits for the body
    const dec = new RecordDecoder(receiveKey);
    expect(isWormholeError(thrown(() => dec.push(fromHex('01000001'))), 'RemoteProtocol')).toBe(true);
  });

  it('rejects a length too short for nonce and MAC', () => {
    const dec = new RecordDecoder(receiveKey);
    const err = thrown(() => dec.push(fromHex('00000027')));
    expect(isWormholeError(err, 'RemoteProtocol')).toBe(true);
  });

  it('rejects a corrupted record', () => {
    for (const index of [4 + 24, record0.length - 1]) {
      const bad = record0.slice();
      bad[index]! ^= 0x80;
      const dec = new RecordDecoder(receiveKey);
      const err = thrown(() => dec.push(bad));
      expect(isWormholeError(err, 'RemoteProtocol')).toBe(true);
      expect((err as Error).message).toMatch(/failed authentication/);
    }
  });

  it('rejects a record under the wrong key (the sender-side receive key)', () => {
    const dec = new RecordDecoder(recordKeys(tk, 'sender').receive);
    expect(isWormholeError(thrown(() => dec.push(record0)), 'RemoteProtocol')).toBe(true);
  });

  it('rejects an out-of-order nonce', () => {
    const enc = new RecordEncoder(recordKeys(tk, 'sender').send);
    const r0 = enc.encode(utf8('zero'));
    const r1 = enc.encode(utf8('one'));
    const dec = new RecordDecoder(receiveKey);
    const err = thrown(() => dec.push(r1));
    expect(isWormholeError(err, 'RemoteProtocol')).toBe(true);
    expect((err as Error).message).toMatch(/got nonce 1, expected 0/);

    const replay = new RecordDecoder(receiveKey);
    expect(replay.push(r0).map(fromUtf8)).toEqual(['zero']);
    expect((thrown(() => replay.push(r0)) as Error).message).toMatch(/got nonce 0, expected 1/);
  });

  it('checks its options', () => {
    expect(() => new RecordDecoder(receiveKey, { maxRecordLength: 39 })).toThrow(RangeError);
    expect(() => new RecordDecoder(receiveKey, { maxRecordLength: 2 ** 32 })).toThrow(RangeError);
    expect(() => new RecordDecoder(new Uint8Array(16) as typeof receiveKey)).toThrow(RangeError);
  });
});

describe('RecordDecoder over uncopied chunks (copyInput: false)', () => {
  const key = recordKey(new Uint8Array(32).fill(9));
  const plaintexts = [new Uint8Array(3000).fill(1), new Uint8Array(5000).fill(2), utf8('last')];
  const encoder = new RecordEncoder(key);
  const wire = concatBytes(...plaintexts.map((p) => encoder.encode(p)));

  it('a record split across adjacent views of one buffer comes back as a view of it, not a copy', () => {
    const cuts = [[0, 2], [2, 1000], [1000, 4500], [4500, wire.length]] as const;
    // Reads landing back to back in one slab, cut inside the length prefix and inside records.
    const sealed = new RecordDecoder(key, { copyInput: false });
    const boxes = cuts.flatMap(([a, b]) => sealed.pushSealed(wire.subarray(a, b)));
    expect(boxes.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(boxes.every((r) => r.box.buffer === wire.buffer)).toBe(true);
    const decoder = new RecordDecoder(key, { copyInput: false });
    const out = cuts.flatMap(([a, b]) => decoder.push(wire.subarray(a, b)));
    expect(out.map(toHex)).toEqual(plaintexts.map(toHex));
  });

  it('a record split across separate buffers is copied together', () => {
    const decoder = new RecordDecoder(key, { copyInput: false });
    const out = [...decoder.push(wire.slice(0, 1000)), ...decoder.push(wire.slice(1000))];
    expect(out.map(toHex)).toEqual(plaintexts.map(toHex));
  });
});
