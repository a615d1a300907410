import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  Crc32,
  WormholeError,
  ZipReader,
  concatBytes,
  encodeCentralDirectory,
  encodeLocalHeader,
  utf8,
  zipArchiveSize,
  zipEntryPath,
  type ZipEvent,
  type ZipWriteEntry,
} from '../src/index.js';
import { crc, wormholeError } from './zip-support.js';

function entry(name: string, data: Uint8Array, opts: { deflate?: boolean; mode?: number } = {}): { e: ZipWriteEntry; body: Uint8Array } {
  const body = opts.deflate ? new Uint8Array(deflateRawSync(data)) : data;
  return {
    e: { name, mode: opts.mode ?? 0o644, method: opts.deflate ? 8 : 0, crc: crc(data), compressedSize: body.length, size: data.length, mtimeMs: Date.UTC(2024, 0, 2, 3, 4, 6) },
    body,
  };
}

function buildZip(list: { e: ZipWriteEntry; body: Uint8Array }[]): Uint8Array {
  return concatBytes(...list.flatMap((x) => [encodeLocalHeader(x.e), x.body]), encodeCentralDirectory(list.map((x) => x.e)));
}

/** Read a whole zip, chunked every `step` bytes, into name → data and the central records. */
function readZip(zip: Uint8Array, step: number, reader = new ZipReader()) {
  const files = new Map<string, Uint8Array[]>();
  let current = '';
  let central: unknown;
  const handle = (ev: ZipEvent) => {
    if (ev.type === 'entry') (current = ev.entry.name), files.set(current, []);
    if (ev.type === 'data') files.get(current)!.push(ev.bytes.slice());
    if (ev.type === 'central') central = ev.entries;
  };
  for (let i = 0; i < zip.length; i += step) for (const ev of reader.push(zip.subarray(i, i + step))) handle(ev);
  reader.finish();
  return { files: new Map([...files].map(([k, v]) => [k, concatBytes(...v)])), central };
}


describe('Crc32', () => {
  it('matches the standard check value', () => {
    expect(crc(utf8('123456789'))).toBe(0xcbf43926);
    expect(crc(new Uint8Array(0))).toBe(0);
    const a = new Crc32().update(utf8('12345')).update(utf8('6789')).digest();
    expect(a).toBe(0xcbf43926);
  });
});

describe('zipEntryPath', () => {
  it('splits and normalises', () => {
    expect(zipEntryPath('a/b.txt')).toEqual({ segments: ['a', 'b.txt'], isDirectory: false });
    expect(zipEntryPath('a//./b/')).toEqual({ segments: ['a', 'b'], isDirectory: true });
    expect(zipEntryPath('..foo/bar..')).toEqual({ segments: ['..foo', 'bar..'], isDirectory: false });
  });
  it('rejects traversal, absolute paths, drive letters and control characters', () => {
    for (const bad of ['../x', 'a/../../x', '..', 'a\\..\\b', '/etc/passwd', '\\x', 'C:/x', 'c:x', 'a\u0000b', '', './', 'x'.repeat(300)]) {
      expect(wormholeError(() => zipEntryPath(bad)).code, JSON.stringify(bad)).toBe('RemoteProtocol');
    }
  });
});

describe('zip writer and ZipReader', () => {
  const files = [
    entry('hello.txt', utf8('hello\n'.repeat(1000)), { deflate: true }),
    entry('sub/', new Uint8Array(0), { mode: 0o750 }),
    entry('sub/bin.dat', Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 255), { mode: 0o600 }),
    entry('ünï/✓.txt', utf8('unicode'), { mode: 0o755 }),
    entry('empty', new Uint8Array(0)),
  ];
  const zip = buildZip(files);

  it('computes the archive size up front', () => {
    expect(zip.length).toBe(zipArchiveSize(files.map((f) => ({ name: f.e.name, compressedSize: f.e.compressedSize }))));
  });

  for (const step of [1, 7, 4096, 1 << 20]) {
    it(`reads its own zips back in ${step}-byte chunks`, () => {
      const { files: got, central } = readZip(zip, step);
      expect([...got.keys()]).toEqual(files.map((f) => f.e.name));
      expect(got.get('sub/bin.dat')).toEqual(files[2]!.body);
      expect(got.get('hello.txt')).toEqual(files[0]!.body); // still deflated: inflating is the caller's
      expect(central).toEqual([
        { name: 'hello.txt', mode: 0o644 },
        { name: 'sub/', mode: 0o750 },
        { name: 'sub/bin.dat', mode: 0o600 },
        { name: 'ünï/✓.txt', mode: 0o755 },
        { name: 'empty', mode: 0o644 },
      ]);
    });
  }

  const python = spawnSync('/usr/bin/python3', ['-c', 'import zipfile'], { encoding: 'utf8' });
  it('Python zipfile reads our zips, modes included', () => {
    expect(python.status, `Debian's /usr/bin/python3 with the reference modules is required: ${python.stderr}`).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'burrow-zip-'));
    try {
      writeFileSync(join(dir, 'z.zip'), zip);
      const script = `
import zipfile, json, sys
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, oct(i.external_attr >> 16), i.create_system, len(z.read(i))] for i in z.infolist()]))`;
      const r = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'z.zip')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([
        ['hello.txt', '0o100644', 3, 6000],
        ['sub/', '0o40750', 3, 0],
        ['sub/bin.dat', '0o100600', 3, 5000],
        ['ünï/✓.txt', '0o100755', 3, 7],
        ['empty', '0o100644', 3, 0],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads what Python zipfile writes (as `wormhole send DIR` does), modes included', () => {
    expect(python.status, `Debian's /usr/bin/python3 with the reference modules is required: ${python.stderr}`).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'burrow-zip-'));
    try {
      const script = `
import zipfile, os, sys
d = sys.argv[1]
os.makedirs(os.path.join(d, 'src', 'deep'))
for name, mode, data in [('a.txt', 0o644, b'x' * 10000), ('deep/run', 0o755, b'#!/bin/sh\\n'), ('deep/\\u00e9', 0o600, b'')]:
    p = os.path.join(d, 'src', name)
    open(p, 'wb').write(data)
    os.chmod(p, mode)
with zipfile.ZipFile(os.path.join(d, 'z.zip'), 'w', compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
    for name in ['a.txt', 'deep/run', 'deep/\\u00e9']:
        zf.write(os.path.join(d, 'src', name), name)`;
      const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const { files: got, central } = readZip(new Uint8Array(readFileSync(join(dir, 'z.zip'))), 1000);
      expect([...got.keys()]).toEqual(['a.txt', 'deep/run', 'deep/é']);
      expect(central).toEqual([
        { name: 'a.txt', mode: 0o644 },
        { name: 'deep/run', mode: 0o755 },
        { name: 'deep/é', mode: 0o600 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('enforces maxTotalSize (zip bomb) and maxEntries before any data', () => {
    const big = buildZip([entry('big', new Uint8Array(100_000), { deflate: true })]);
    const e = wormholeError(() => new ZipReader({ maxTotalSize: 99_999 }).push(big));
    expect(e.message).toMatch(/zip bomb/);
    const many = buildZip(Array.from({ length: 5 }, (_, i) => entry(`f${i}`, utf8('x'))));
    expect(wormholeError(() => new ZipReader({ maxEntries: 4 }).push(many)).message).toMatch(/more than 4 entries/);
  });

  it('refuses encryption, unknown methods, junk and truncation', () => {
    const base = encodeLocalHeader(entry('x', utf8('abc')).e);
    const patch = (offset: number, value: number, bytes = 2) => {
      const b = base.slice();
      const v = new DataView(b.buffer);
      if (bytes === 2) v.setUint16(offset, value, true);
      else v.setUint32(offset, value, true);
      return b;
    };
    const dd = patch(6, 8);
    new DataView(dd.buffer).setUint32(18, 0, true);
    new DataView(dd.buffer).setUint32(22, 0, true);
    // A data descriptor is no longer refused (issue 17): the entry streams, and here the zip ends too soon.
    const streaming = new ZipReader();
    expect(streaming.push(dd)).toMatchObject([{ type: 'entry', entry: { name: 'x', end: 'scan', size: undefined } }]);
    expect(wormholeError(() => streaming.finish()).message).toMatch(/truncated/);
    expect(wormholeError(() => new ZipReader().push(patch(6, 1))).message).toMatch(/encrypted/);
    expect(wormholeError(() => new ZipReader().push(patch(8, 12))).message).toMatch(/method 12/);
    expect(wormholeError(() => new ZipReader().push(utf8('GIF89a...'))).message).toMatch(/unexpected signature/);
    const r = new ZipReader();
    r.push(zip.subarray(0, zip.length - 5));
    expect(wormholeError(() => r.finish()).message).toMatch(/truncated/);
    // Failures are final.
    const f = new ZipReader();
    expect(() => f.push(utf8('junk'))).toThrow(WormholeError);
    expect(() => f.push(zip)).toThrow(WormholeError);
  });

  it('refuses trailing data and a central directory that does not match', () => {
    expect(wormholeError(() => new ZipReader().push(concatBytes(zip, utf8('x')))).message).toMatch(/after the end/);
    const oneLocal = concatBytes(encodeLocalHeader(files[4]!.e), encodeCentralDirectory([files[4]!.e, files[4]!.e]));
    expect(wormholeError(() => new ZipReader().push(oneLocal)).message).toMatch(/more central records/);
  });

  it('the writer refuses what needs Zip64', () => {
    const huge: ZipWriteEntry = { name: 'h', mode: 0o644, method: 0, crc: 0, compressedSize: 2 ** 32, size: 2 ** 32, mtimeMs: 0 };
    expect(() => encodeLocalHeader(huge)).toThrow(RangeError);
  });
});
