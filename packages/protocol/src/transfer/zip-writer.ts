/**
 * Zip writing, sans-I/O: which entries a directory's zip holds (files and
 * empty directories only, as the Python CLI writes it), headers for a writer
 * that knows every entry's CRC and sizes before its data (no data
 * descriptors), the central directory, and the archive's exact size up front
 * (the directory offer states it).
 */

import { utf8 } from '../bytes.js';
import { WormholeError } from '../errors.js';
import { CENTRAL_SIG, EOCD_SIG, FLAG_UTF8, LOCAL_SIG, S_IFDIR, S_IFREG, U32_MAX, UNIX, zipEntryPath, type ZipMethod } from './zip-format.js';

/** Everything the writer needs to know about one entry before its data. */
export interface ZipWriteEntry {
  /** Path inside the zip, `/`-separated; directories end with `/`. */
  readonly name: string;
  /** Permission bits (`0o644`); the file-type bits are added here. */
  readonly mode: number;
  readonly method: ZipMethod;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Modification time, ms since the epoch (stored as DOS local time). */
  readonly mtimeMs: number;
}

function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(Number.isFinite(ms) ? ms : 0);
  let year = d.getFullYear();
  if (year < 1980) return { time: 0, date: (1 << 5) | 1 }; // 1980-01-01
  if (year > 2107) year = 2107;
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** Bytes of the local header for `e` (30 + name). */
export function localHeaderSize(name: string): number {
  return 30 + utf8(name).length;
}

/** Bytes of the central-directory record for `e` (46 + name). */
export function centralRecordSize(name: string): number {
  return 46 + utf8(name).length;
}

/** Total zip size for entries with these names and compressed sizes. */
export function zipArchiveSize(entries: readonly { name: string; compressedSize: number }[]): number {
  let n = 22;
  for (const e of entries) n += localHeaderSize(e.name) + e.compressedSize + centralRecordSize(e.name);
  return n;
}

function checkEntry(e: ZipWriteEntry): void {
  if (e.compressedSize > U32_MAX - 1 || e.size > U32_MAX - 1) {
    throw new RangeError(`${e.name} is too large for a zip without Zip64 (4 GiB per file)`);
  }
}

function header(e: ZipWriteEntry, central: boolean, offset: number): Uint8Array {
  checkEntry(e);
  const name = utf8(e.name);
  const out = new Uint8Array((central ? 46 : 30) + name.length);
  const v = new DataView(out.buffer);
  const { time, date } = dosDateTime(e.mtimeMs);
  const flags = isAscii(e.name) ? 0 : FLAG_UTF8;
  let p = 0;
  v.setUint32(p, central ? CENTRAL_SIG : LOCAL_SIG, true), (p += 4);
  if (central) v.setUint16(p, (UNIX << 8) | 20, true), (p += 2); // version made by
  v.setUint16(p, 20, true), (p += 2); // version needed
  v.setUint16(p, flags, true), (p += 2);
  v.setUint16(p, e.method, true), (p += 2);
  v.setUint16(p, time, true), (p += 2);
  v.setUint16(p, date, true), (p += 2);
  v.setUint32(p, e.crc >>> 0, true), (p += 4);
  v.setUint32(p, e.compressedSize, true), (p += 4);
  v.setUint32(p, e.size, true), (p += 4);
  v.setUint16(p, name.length, true), (p += 2);
  v.setUint16(p, 0, true), (p += 2); // extra length
  if (central) {
    const dir = e.name.endsWith('/');
    const attrs = (((dir ? S_IFDIR : S_IFREG) | (e.mode & 0o7777)) << 16) >>> 0 | (dir ? 0x10 : 0);
    v.setUint16(p, 0, true), (p += 2); // comment length
    v.setUint16(p, 0, true), (p += 2); // disk number
    v.setUint16(p, 0, true), (p += 2); // internal attributes
    v.setUint32(p, attrs >>> 0, true), (p += 4);
    if (offset > U32_MAX - 1) throw new RangeError('directory too large for a zip without Zip64 (4 GiB in all)');
    v.setUint32(p, offset, true), (p += 4);
  }
  out.set(name, p);
  return out;
}

/**
 * The local file header for an entry whose CRC and sizes are already known
 * (no data descriptor follows the data).
 */
export function encodeLocalHeader(e: ZipWriteEntry): Uint8Array {
  return header(e, false, 0);
}

/**
 * Central directory and end record, for entries written in this order from
 * offset 0 with {@link encodeLocalHeader}.
 */
export function encodeCentralDirectory(entries: readonly ZipWriteEntry[]): Uint8Array {
  if (entries.length > 0xffff) throw new RangeError('too many entries for a zip without Zip64 (65535)');
  const parts: Uint8Array[] = [];
  let offset = 0;
  let size = 0;
  for (const e of entries) {
    const h = header(e, true, offset);
    parts.push(h);
    size += h.length;
    offset += localHeaderSize(e.name) + e.compressedSize;
  }
  if (offset > U32_MAX - 1) throw new RangeError('directory too large for a zip without Zip64 (4 GiB in all)');
  const end = new Uint8Array(22);
  const v = new DataView(end.buffer);
  v.setUint32(0, EOCD_SIG, true);
  v.setUint16(8, entries.length, true);
  v.setUint16(10, entries.length, true);
  v.setUint32(12, size, true);
  v.setUint32(16, offset, true);
  parts.push(end);
  const out = new Uint8Array(size + 22);
  let p = 0;
  for (const part of parts) out.set(part, p), (p += part.length);
  return out;
}

/** One item of a directory being zipped, as its source lists it. */
export interface ZipTreeItem {
  /** Relative, `/`-separated path (a trailing `/` is ignored). */
  readonly path: string;
  readonly type: 'file' | 'directory';
}

/**
 * The zip entry name of each item, the way the Python CLI (`wormhole send
 * DIR`) lays out its zip: a file is an entry; a directory that holds
 * anything gets NO entry (`undefined`) — its files imply it, and some
 * receivers (wormhole-william) extract every entry as a file, so an entry
 * for a non-empty directory becomes a file and the receive fails; only an
 * empty directory gets an entry (`name/`), so it is not lost (Python's own
 * sender drops empty directories; its receiver, zipfile's extract, keeps
 * them). A directory listed twice gets one entry. Parents need not be
 * listed.
 *
 * Throws WormholeError('Usage') for an unsafe path, a file listed twice, or
 * a path that is both a file and a directory (no receiver could unpack it).
 *
 * @example
 * zipTreeNames([{ path: 'a', type: 'directory' }, { path: 'a/x', type: 'file' }, { path: 'e', type: 'directory' }]);
 * // [undefined, 'a/x', 'e/']
 */
export function zipTreeNames(items: readonly ZipTreeItem[]): (string | undefined)[] {
  const paths = items.map((item) => {
    try {
      return zipEntryPath(item.path.replace(/\/+$/, '')).segments.join('/');
    } catch {
      throw new WormholeError('Usage', `bad path in directory source: ${JSON.stringify(item.path.slice(0, 200))}`);
    }
  });
  const files = new Set<string>();
  const dirs = new Set<string>();
  const parents = new Set<string>();
  paths.forEach((p, i) => {
    if (items[i]!.type === 'directory') dirs.add(p);
    else if (files.has(p)) throw new WormholeError('Usage', `${JSON.stringify(p)} is listed twice in the directory source`);
    else files.add(p);
    for (let slash = p.lastIndexOf('/'); slash > 0 && !parents.has(p.slice(0, slash)); slash = p.lastIndexOf('/', slash - 1)) parents.add(p.slice(0, slash));
  });
  for (const f of files) {
    if (dirs.has(f) || parents.has(f)) throw new WormholeError('Usage', `${JSON.stringify(f)} is both a file and a directory in the directory source`);
  }
  const named = new Set<string>();
  return paths.map((p, i) => {
    if (items[i]!.type === 'file') return p;
    if (parents.has(p) || named.has(p)) return undefined;
    named.add(p);
    return `${p}/`;
  });
}
