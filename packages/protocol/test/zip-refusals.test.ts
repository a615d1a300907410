// What the streaming ZipReader refuses, each with RemoteProtocol: data
// descriptors that disagree with the data, central directories and end
// records that disagree with the streamed entries, truncation, and the
// size bounds for entries whose sizes only arrive after their data.
import { describe, expect, it } from 'vitest';
import { ZipReader, encodeCentralDirectory, encodeLocalHeader, concatBytes, utf8 } from '../src/index.js';
import { crc, handStreamedZip, pythonStreamedZip, readZip, wormholeError, type StreamedEntry } from './zip-support.js';

const ENTRIES: StreamedEntry[] = [
  { name: 'a/deflated.txt', data: utf8('deflated '.repeat(300)), deflate: true },
  { name: 'a/stored.txt', data: utf8('stored bytes') },
];
const zip = handStreamedZip(ENTRIES, { signature: true, wide: false });
const python = pythonStreamedZip(ENTRIES);

/** Offsets of a 4-byte little-endian signature in `b`. */
function find(b: Uint8Array, sig: number): number[] {
  const out: number[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i + 4 <= b.length; i++) if (v.getUint32(i, true) === sig) out.push(i);
  return out;
}

function patched(b: Uint8Array, offset: number, value: number, bytes: 1 | 2 | 4 = 4): Uint8Array {
  const out = b.slice();
  const v = new DataView(out.buffer);
  if (bytes === 4) v.setUint32(offset, value >>> 0, true);
  else if (bytes === 2) v.setUint16(offset, value, true);
  else v.setUint8(offset, value);
  return out;
}

const refusal = (z: Uint8Array, step = 64, reader?: ZipReader) => wormholeError(() => readZip(z, step, reader));
const DESCRIPTOR = 0x08074b50;
const CENTRAL = 0x02014b50;
const EOCD = 0x06054b50;

describe('a data descriptor that disagrees with the data', () => {
  for (const [what, z] of [['hand-made', zip], ['Python', python]] as const) {
    const [deflatedDd, storedDd] = find(z, DESCRIPTOR) as [number, number];
    it(`${what}: a deflated entry's CRC, compressed size or size`, () => {
      for (const field of [4, 8, 12]) {
        const bad = patched(z, deflatedDd + field, new DataView(z.buffer, z.byteOffset).getUint32(deflatedDd + field, true) + 1);
        const e = refusal(bad);
        expect(e.code).toBe('RemoteProtocol');
        expect(e.message).toMatch(/a\/deflated\.txt.*data descriptor that does not match/);
      }
    });
    it(`${what}: a stored entry's CRC or size (its end is never found: the zip is refused as truncated)`, () => {
      for (const field of [4, 8, 12]) {
        const bad = patched(z, storedDd + field, new DataView(z.buffer, z.byteOffset).getUint32(storedDd + field, true) ^ 0x10);
        expect(refusal(bad)).toMatchObject({ code: 'RemoteProtocol', message: expect.stringMatching(/truncated/) });
      }
    });
  }
  it('descriptor sizes that match but a deflate stream whose content does not (CRC over the unpacked bytes)', () => {
    const [dd] = find(zip, DESCRIPTOR) as [number];
    const data = ENTRIES[0]!.data!;
    const bad = patched(zip, dd + 4, crc(data) ^ 1);
    expect(refusal(bad, 1).code).toBe('RemoteProtocol');
  });
});

describe('a central directory or end record that disagrees with the streamed entries', () => {
  const [first, second] = find(zip, CENTRAL) as [number, number];
  const cases: [string, Uint8Array, RegExp][] = [
    ['CRC', patched(zip, first + 16, 1), /disagrees with the local entry "a\/deflated\.txt" \(crc\)/],
    ['compressed size', patched(zip, second + 20, 3), /\(compressedSize\)/],
    ['size', patched(zip, second + 24, 3), /\(size\)/],
    ['method', patched(zip, first + 10, 0, 2), /\(method\)/],
    ['name', patched(zip, second + 46, 'b'.charCodeAt(0), 1), /\(name\)/],
    ['offset', patched(zip, second + 42, 7), /where no entry was streamed/],
    ['two records for one entry', patched(zip, second + 42, 0), /where no entry was streamed/],
  ];
  for (const [what, bad, message] of cases) {
    it(what, () => {
      expect(refusal(bad)).toMatchObject({ code: 'RemoteProtocol', message: expect.stringMatching(message) });
    });
  }
  it('the end record: entry count, directory size, directory offset', () => {
    const [end] = find(zip, EOCD) as [number];
    for (const [field, bytes] of [[10, 2], [12, 4], [16, 4]] as const) {
      const bad = patched(zip, end + field, 5, bytes);
      expect(refusal(bad)).toMatchObject({ code: 'RemoteProtocol', message: expect.stringMatching(/end record disagrees|central records/) });
    }
  });
  it('the same checks hold for zips without descriptors (as the Python CLI sends them)', () => {
    const e = { name: 'x', mode: 0o644, method: 0, crc: crc(utf8('abc')), compressedSize: 3, size: 3, mtimeMs: 0 } as const;
    const good = concatBytes(encodeLocalHeader(e), utf8('abc'), encodeCentralDirectory([e]));
    expect(readZip(good, 5).files.get('x')).toEqual(utf8('abc'));
    const lying = concatBytes(encodeLocalHeader(e), utf8('abc'), encodeCentralDirectory([{ ...e, crc: 0 }]));
    expect(refusal(lying)).toMatchObject({ code: 'RemoteProtocol', message: expect.stringMatching(/\(crc\)/) });
  });
  it('a local header after the central directory', () => {
    const [cd] = find(zip, CENTRAL) as [number];
    const [end] = find(zip, EOCD) as [number];
    const bad = concatBytes(zip.subarray(0, end), zip.subarray(0, 40));
    expect(cd).toBeGreaterThan(0);
    expect(refusal(bad)).toMatchObject({ code: 'RemoteProtocol', message: expect.stringMatching(/unexpected signature 0x4034b50/) });
  });
});

describe('truncation and bounds', () => {
  it('a zip cut anywhere is refused', () => {
    for (const z of [zip, python]) {
      for (let cut = 1; cut < z.length; cut += 7) {
        expect(refusal(z.subarray(0, cut), 16).code, `cut at ${cut}`).toBe('RemoteProtocol');
      }
    }
  });
  it('entries whose sizes come after their data still count against maxTotalSize', () => {
    const total = ENTRIES.reduce((n, e) => n + e.data!.length, 0);
    expect(readZip(zip, 100, new ZipReader({ maxTotalSize: total })).files.size).toBe(2);
    for (const max of [total - 1, ENTRIES[0]!.data!.length + 3, 10]) {
      expect(refusal(zip, 100, new ZipReader({ maxTotalSize: max })).message, `max ${max}`).toMatch(/zip bomb/);
    }
  });
  it('a stored entry scanned for its end stops at the first byte over the bound', () => {
    const big = handStreamedZip([{ name: 'big', data: new Uint8Array(100_000) }], { signature: true, wide: false });
    const r = new ZipReader({ maxTotalSize: 50_000 });
    let handed = 0;
    const e = wormholeError(() => {
      for (let i = 0; i < big.length; i += 1000) for (const ev of r.push(big.subarray(i, i + 1000))) if (ev.type === 'data') handed += ev.bytes.length;
    });
    expect(e.message).toMatch(/zip bomb/);
    expect(handed).toBeLessThanOrEqual(51_000);
  });
});
