// The zip Burrow sends for a folder, read by an extractor that is not ours: a
// strict "entry per file" receiver written here (central directory → local
// header → node:zlib), the way other magic-wormhole clients unpack. The zip
// must hold an entry per file and per EMPTY directory only (the Python CLI's
// layout), and the offer's counts must describe it exactly.
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Crc32, concatBytes, encodeCentralDirectory, encodeLocalHeader, utf8, type ZipWriteEntry } from '@burrow/protocol';
import { inTempDir } from '@burrow/testkit';
import { planZip, writeZip } from '../src/transfer/zip.js';
import { ZipExtractor } from '../src/transfer/zip-extract.js';
import type { DirectoryEntry } from '../src/index.js';
import { MemoryDirSink, streamOf } from './support/memory-transfer.js';

interface RawEntry {
  readonly name: string;
  readonly mode: number; // external attributes >> 16
  readonly dosAttrs: number;
  readonly data: Uint8Array;
}

/** Every entry of a zip, from its central directory (no Zip64, no comment: what Burrow writes). */
function readEntries(zip: Uint8Array): RawEntry[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.length - 22;
  expect(v.getUint32(eocd, true)).toBe(0x06054b50);
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out: RawEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(v.getUint32(p, true)).toBe(0x02014b50);
    const method = v.getUint16(p + 10, true);
    const csize = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const skip = nameLen + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    const attrs = v.getUint32(p + 38, true);
    const local = v.getUint32(p + 42, true);
    const name = Buffer.from(zip.subarray(p + 46, p + 46 + nameLen)).toString('utf8');
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const body = zip.subarray(start, start + csize);
    out.push({ name, mode: attrs >>> 16, dosAttrs: attrs & 0xff, data: method === 8 ? new Uint8Array(inflateRawSync(body)) : body });
    p += 46 + skip;
  }
  return out;
}

/**
 * A strict entry-per-file receiver. `dirEntries: 'dirs'`: an entry ending in
 * `/` is a directory, every other entry a file whose parents are created;
 * `'files'`: every entry is a file (wormhole-william: `MkdirAll(Dir(p))`,
 * then `OpenFile(Join(dest, name))`, which drops the trailing `/`). Either
 * way it first checks the offer's counts as wormhole-william does (entries =
 * numfiles, unpacked bytes = numbytes) and fails when a file meets a
 * directory.
 */
function strictExtract(zip: Uint8Array, offer: { zipsize: number; numfiles: number; numbytes: number }, dest: string, dirEntries: 'dirs' | 'files'): void {
  const entries = readEntries(zip);
  if (zip.length !== offer.zipsize) throw new Error(`zipsize ${offer.zipsize} ≠ ${zip.length}`);
  if (entries.length !== offer.numfiles) throw new Error(`zip error: corrupted zip file (${entries.length} entries, numfiles ${offer.numfiles})`);
  const bytes = entries.reduce((n, e) => n + e.data.length, 0);
  if (bytes !== offer.numbytes) throw new Error(`zip error: corrupted zip file (${bytes} bytes, numbytes ${offer.numbytes})`);
  for (const e of entries) {
    const path = join(dest, e.name).replace(/\/+$/, ''); // Go's filepath.Join drops a trailing '/'
    if (dirEntries === 'dirs' && e.name.endsWith('/')) {
      mkdirSync(path, { recursive: true }); // throws if a file is in the way
      continue;
    }
    mkdirSync(dirname(path), { recursive: true }); // throws ENOTDIR/EEXIST if a parent is a file
    writeFileSync(path, e.data, { flag: 'wx' }); // throws if a directory (or a file) is already there
  }
}

/** path → 'dir' or the file's text, below `root`. */
function listTree(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (lstatSync(join(root, r)).isDirectory()) Object.assign(out, { [r]: 'dir' }, listTree(root, r));
    else out[r] = readFileSync(join(root, r), 'utf8');
  }
  return out;
}

const file = (path: string, text: string, mode = 0o644): DirectoryEntry => ({ path, type: 'file', mode, open: () => streamOf(utf8(text), 5) });
const dir = (path: string, mode = 0o755): DirectoryEntry => ({ path, type: 'directory', mode });

/** Listed the way node's directorySource lists a disk tree: every directory, then what it holds. */
const source = {
  name: 'proj',
  entries: [
    dir('a'),
    dir('a/b', 0o750),
    dir('a/b/c'),
    file('a/b/c/deep.md', '# deep\n'),
    dir('a/b/empty', 0o700),
    file('a/b/x.txt', 'x'.repeat(10_000)),
    dir('empty'),
    dir('ünï ✓'),
    file('ünï ✓/日本語.txt', 'こんにちは\n'),
    file('README', 'read me\n'),
    file('zero', ''),
  ],
};
const tree = {
  a: 'dir',
  'a/b': 'dir',
  'a/b/c': 'dir',
  'a/b/c/deep.md': '# deep\n',
  'a/b/empty': 'dir',
  'a/b/x.txt': 'x'.repeat(10_000),
  empty: 'dir',
  'ünï ✓': 'dir',
  'ünï ✓/日本語.txt': 'こんにちは\n',
  README: 'read me\n',
  zero: '',
};

async function zipOf(level: number) {
  const plan = await planZip(source, level);
  const out: Uint8Array[] = [];
  await writeZip(plan, async (b) => void out.push(b.slice()));
  return { plan, zip: concatBytes(...out) };
}

describe('the zip of a folder holds files and empty directories only', () => {
  for (const level of [0, 6]) {
    it(`entries, modes and offer counts (level ${level})`, async () => {
      const { plan, zip } = await zipOf(level);
      const entries = readEntries(zip);
      expect(entries.map((e) => e.name)).toEqual(['a/b/c/deep.md', 'a/b/empty/', 'a/b/x.txt', 'empty/', 'ünï ✓/日本語.txt', 'README', 'zero']);
      const modes = Object.fromEntries(entries.map((e) => [e.name, [e.mode.toString(8), e.dosAttrs]]));
      expect(modes['a/b/empty/']).toEqual(['40700', 0x10]); // S_IFDIR | 0o700, MS-DOS directory bit
      expect(modes['empty/']).toEqual(['40755', 0x10]);
      expect(modes['README']).toEqual(['100644', 0]);
      for (const e of entries.filter((x) => x.name.endsWith('/'))) expect(e.data.length).toBe(0);
      // The offer describes exactly this zip.
      expect(plan.zipsize).toBe(zip.length);
      expect(plan.numfiles).toBe(entries.length);
      expect(plan.numbytes).toBe(entries.reduce((n, e) => n + e.data.length, 0));
      expect(plan.numbytes).toBe(7 + 10_000 + utf8('こんにちは\n').length + 8);
    });
  }

  it('a strict entry-per-file receiver unpacks it; one that makes every entry a file (wormhole-william) does too', async () => {
    const { plan, zip } = await zipOf(6);
    await inTempDir('burrow-zip-strict-', async (dest) => {
      strictExtract(zip, plan, join(dest, 'dirs'), 'dirs');
      expect(listTree(join(dest, 'dirs'))).toEqual(tree);
      // wormhole-william turns an empty directory's entry into an empty file, but the receive succeeds.
      strictExtract(zip, plan, join(dest, 'files'), 'files');
      expect(listTree(join(dest, 'files'))).toEqual({ ...tree, 'a/b/empty': '', empty: '' });
    });
  });

  it('control: the old layout (an entry for every directory) fails at an every-entry-a-file receiver: "not a directory"', async () => {
    const entry = (name: string, data: Uint8Array = new Uint8Array(0)): ZipWriteEntry => ({ name, mode: 0o644, method: 0, crc: new Crc32().update(data).digest(), compressedSize: data.length, size: data.length, mtimeMs: 0 });
    const list = [entry('a/'), entry('a/x', utf8('x'))];
    const zip = concatBytes(...list.flatMap((e, i) => [encodeLocalHeader(e), i === 1 ? utf8('x') : new Uint8Array(0)]), encodeCentralDirectory(list));
    await inTempDir('burrow-zip-old-', async (dest) => {
      expect(() => strictExtract(zip, { zipsize: zip.length, numfiles: 2, numbytes: 1 }, dest, 'files')).toThrow(/ENOTDIR|EEXIST/);
    });
    // And a file meeting a directory fails at the strict receiver too (its check is real).
    const clash = [entry('a/x', utf8('x')), entry('a/x/y', utf8('y'))];
    const zip2 = concatBytes(...clash.flatMap((e) => [encodeLocalHeader(e), utf8(e.name.endsWith('y') ? 'y' : 'x')]), encodeCentralDirectory(clash));
    await inTempDir('burrow-zip-clash-', async (dest) => {
      expect(() => strictExtract(zip2, { zipsize: zip2.length, numfiles: 2, numbytes: 2 }, dest, 'dirs')).toThrow(/ENOTDIR|EEXIST/);
    });
    // Burrow's extractor refuses it before touching the sink, with a stable code.
    const x = new ZipExtractor(new MemoryDirSink(), { numfiles: 2, numbytes: 2 });
    await expect(x.push(zip2).then(() => x.finish())).rejects.toMatchObject({ code: 'RemoteProtocol', message: expect.stringMatching(/both a file and a directory/) });
  });

  it("Burrow's own extractor creates the parents files imply, and the empty directories", async () => {
    const { plan, zip } = await zipOf(6);
    const sink = new MemoryDirSink();
    const x = new ZipExtractor(sink, plan);
    for (let i = 0; i < zip.length; i += 777) await x.push(zip.subarray(i, i + 777));
    await x.finish();
    expect([...sink.dirs.keys()].sort()).toEqual(['a', 'a/b', 'a/b/c', 'a/b/empty', 'empty', 'ünï ✓']);
    expect(sink.dirs.get('a/b/empty')).toBe(0o700);
    expect(sink.text('a/b/c/deep.md')).toBe('# deep\n');
    expect([...sink.files.keys()].sort()).toEqual(Object.keys(tree).filter((k) => tree[k as keyof typeof tree] !== 'dir').sort());
  });
});
