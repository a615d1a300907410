// Zips from streaming writers (flag bit 3: CRC and sizes in a data
// descriptor after each entry) read by the streaming ZipReader: Python's
// zipfile writing into a pipe, and hand-made layouts Python never writes.
import { describe, expect, it } from 'vitest';
import { ZipReader, utf8 } from '../src/index.js';
import { handStreamedZip, pythonReads, pythonStreamedZip, readZip, same, trickyBytes, wormholeError, type StreamedEntry } from './zip-support.js';

const innerZip = pythonStreamedZip([{ name: 'inner.txt', data: utf8('a zip inside a zip') }]);
const TREE: StreamedEntry[] = [
  { name: 'top/', mode: 0o750 },
  { name: 'top/sub/deep/notes.md', data: utf8('# deep\n'), deflate: true, mode: 0o600 },
  { name: 'ünïcödé ✓/日本語.txt', data: utf8('こんにちは\n'), deflate: true },
  { name: 'empty-stored', data: new Uint8Array(0) },
  { name: 'empty-deflated', data: new Uint8Array(0), deflate: true },
  { name: 'stored.bin', data: trickyBytes(70_000), mode: 0o755 },
  { name: 'inner.zip', data: innerZip },
  { name: 'big.txt', data: utf8('hello burrow\n'.repeat(20_000)), deflate: true },
  { name: 'random.bin', data: Uint8Array.from({ length: 8_000 }, (_, i) => (i * 2654435761) >>> 24), deflate: true },
  { name: 'zip64-deflated', data: utf8('eight-byte sizes\n'), deflate: true, zip64: true },
  { name: 'zip64-stored', data: utf8('eight-byte sizes, stored\n'), zip64: true },
  { name: 'made-dir/', mkdir: true },
];
const names = TREE.map((e) => e.name);

describe('zips from a streaming writer (Python zipfile into a pipe)', () => {
  const zip = pythonStreamedZip(TREE);

  it('really has data descriptors (and Python itself reads it)', () => {
    const v = new DataView(zip.buffer, zip.byteOffset);
    expect(v.getUint16(6, true) & 8).toBe(8);
    expect(Object.keys(pythonReads(zip))).toEqual(names);
  });

  for (const step of [1, 13, 1000, 65_536, zip.length]) {
    it(`arrives intact in ${step}-byte chunks: nested, unicode, empty, stored, deflated, zip64`, () => {
      const { files, central, ends } = readZip(zip, step);
      expect([...files.keys()]).toEqual(names);
      for (const e of TREE) expect(same(files.get(e.name), e.data), e.name).toBe(true);
      expect(ends.get('big.txt')).toBe('deflate');
      expect(ends.get('stored.bin')).toBe('scan');
      expect(ends.get('made-dir/')).toBe('size');
      expect(central?.find((c) => c.name === 'top/sub/deep/notes.md')?.mode).toBe(0o600);
      expect(central?.find((c) => c.name === 'stored.bin')?.mode).toBe(0o755);
    });
  }

  it('a stored zip inside the zip ends at its own descriptor, not the inner one', () => {
    const { files } = readZip(zip, 4096);
    expect(same(files.get('inner.zip'), innerZip)).toBe(true);
  });
});

describe('every descriptor layout', () => {
  const entries: StreamedEntry[] = [
    { name: 'd/', mode: 0o755 },
    { name: 'd/a.txt', data: utf8('deflated '.repeat(500)), deflate: true },
    { name: 'd/empty', data: new Uint8Array(0) },
    { name: 'd/b.bin', data: trickyBytes(5000) },
    { name: 'z', data: new Uint8Array(0), deflate: true },
  ];
  for (const signature of [true, false]) {
    for (const wide of [false, true]) {
      it(`${signature ? 'with' : 'without'} the signature, ${wide ? '8' : '4'}-byte sizes`, () => {
        const zip = handStreamedZip(entries, { signature, wide });
        expect(Object.keys(pythonReads(zip))).toEqual(entries.map((e) => e.name));
        for (const step of [1, 100, zip.length]) {
          const { files } = readZip(zip, step);
          for (const e of entries) expect(same(files.get(e.name), e.data), `${e.name} in ${step}-byte chunks`).toBe(true);
        }
      });
    }
  }
});

describe('endOfData', () => {
  it('is only for a deflated entry whose end the caller finds, and bounds `unused`', () => {
    const r = new ZipReader();
    expect(() => r.endOfData(0, { crc: 0, size: 0 })).toThrow(/outside a deflated entry/);
    const zip = handStreamedZip([{ name: 'a', data: utf8('abc'), deflate: true }], { signature: true, wide: false });
    const events = r.push(zip.subarray(0, 40));
    expect(events.at(-1)).toMatchObject({ type: 'data' });
    expect(() => r.endOfData(11, { crc: 0, size: 0 })).toThrow(RangeError);
    // A wrong claim about the unpacked data is the descriptor's disagreement.
    expect(r.endOfData(5, { crc: 1, size: 3 })).toEqual([]); // waits for the descriptor
    expect(wormholeError(() => r.push(zip.subarray(40))).code).toBe('RemoteProtocol');
  });
});
