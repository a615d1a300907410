/**
 * The zip container's shared vocabulary: record signatures, limits, the
 * Unix mode layout, and the entry-path safety check used by both the writer
 * and the reader.
 *
 * What `wormhole send DIR` produces (Python `zipfile` into a seekable file):
 * local headers carrying sizes and CRC (no data descriptors), deflated files,
 * no directory entries, Unix mode bits in the central directory's external
 * attributes (`st_mode << 16`, "version made by" OS 3). Burrow's writer
 * produces the same layout, plus entries for empty directories. Streaming
 * writers (Go's `archive/zip`, Java's, Python's into a pipe) put the sizes
 * and CRC in a data descriptor after each entry instead (flag bit 3).
 */

import { fromUtf8, utf8 } from '../bytes.js';
import { WormholeError } from '../errors.js';

/** Zip compression methods we read and write: stored and deflate. */
export type ZipMethod = 0 | 8;

export const LOCAL_SIG = 0x04034b50;
export const CENTRAL_SIG = 0x02014b50;
export const EOCD_SIG = 0x06054b50;
export const ZIP64_EOCD_SIG = 0x06064b50;
export const ZIP64_LOCATOR_SIG = 0x07064b50;
export const DESCRIPTOR_SIG = 0x08074b50;
export const U32_MAX = 0xffffffff;
/** "Version made by" host system of Unix. */
export const UNIX = 3;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
/** General-purpose flag bits. */
export const FLAG_ENCRYPTED = 0x1;
export const FLAG_DESCRIPTOR = 0x8;
export const FLAG_UTF8 = 0x800;

/**
 * Check a zip entry name and split it into path segments. Rejects (with
 * `RemoteProtocol`) absolute paths, drive letters, `..` segments (with `/`
 * or `\` as separator), control characters and over-long names; drops empty
 * and `.` segments.
 *
 * @example
 * zipEntryPath('sub/dir/'); // { segments: ['sub', 'dir'], isDirectory: true }
 * zipEntryPath('../evil');  // throws WormholeError('RemoteProtocol')
 */
export function zipEntryPath(name: string): { segments: string[]; isDirectory: boolean } {
  const fail = (why: string) => new WormholeError('RemoteProtocol', `unsafe path in zip (${why}): ${JSON.stringify(name.slice(0, 200))}`);
  if (typeof name !== 'string' || name.length === 0) throw fail('empty');
  if (name.length > 4096) throw fail('too long');
  if (/[\u0000-\u001f\u007f]/.test(name)) throw fail('control character');
  if (name.startsWith('/') || name.startsWith('\\')) throw fail('absolute');
  if (/^[A-Za-z]:/.test(name)) throw fail('drive letter');
  if (name.split(/[/\\]/).some((s) => s === '..')) throw fail('parent directory');
  const isDirectory = name.endsWith('/');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw fail('no name');
  if (segments.some((s) => utf8(s).length > 255)) throw fail('component longer than 255 bytes');
  return { segments, isDirectory };
}

/** A little-endian 64-bit field as a number; refuses values past 2^53. */
export function readU64(v: DataView, offset: number): number {
  const n = v.getUint32(offset, true) + v.getUint32(offset + 4, true) * 0x1_0000_0000;
  if (!Number.isSafeInteger(n)) throw new WormholeError('RemoteProtocol', 'malformed zip: 64-bit size out of range');
  return n;
}

/** The body of the Zip64 extended-information extra field (id 0x0001), if `extra` has one. */
export function zip64Extra(extra: Uint8Array): DataView | undefined {
  const v = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (p + 4 + len > extra.length) return undefined;
    if (id === 0x0001) return new DataView(extra.buffer, extra.byteOffset + p + 4, len);
    p += 4 + len;
  }
  return undefined;
}

/**
 * Replace the 32-bit fields that are 0xFFFFFFFF by their Zip64 values, which
 * the Zip64 extra field lists in this order (only those that overflowed).
 */
export function zip64Values(extra: Uint8Array, fields: readonly number[]): number[] {
  if (!fields.includes(U32_MAX)) return [...fields];
  const z = zip64Extra(extra);
  let q = 0;
  return fields.map((f) => {
    if (f !== U32_MAX) return f;
    if (!z || q + 8 > z.byteLength) throw new WormholeError('RemoteProtocol', 'malformed zip: zip64 sizes missing');
    const n = readU64(z, q);
    q += 8;
    return n;
  });
}

/**
 * An entry name: UTF-8 when flag bit 11 says so; otherwise ASCII, or UTF-8
 * written without the flag (many tools do); anything else is refused.
 */
export function decodeZipName(bytes: Uint8Array, flags: number): string {
  if (flags & FLAG_UTF8 || bytes.some((c) => c >= 0x80)) {
    try {
      return fromUtf8(bytes);
    } catch {
      throw new WormholeError('RemoteProtocol', flags & FLAG_UTF8 ? 'zip entry name is not valid UTF-8' : 'zip entry name is neither ASCII nor UTF-8');
    }
  }
  let s = '';
  for (const c of bytes) s += String.fromCharCode(c);
  return s;
}

/** A local file header's fields (sizes with Zip64 applied). */
export interface LocalHeader {
  readonly name: string;
  readonly flags: number;
  readonly method: ZipMethod;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Bytes of the header, name and extra field. */
  readonly length: number;
}

/**
 * Parse the local header at the start of `b`; undefined if more bytes are
 * needed. `counted` runs once the whole header is there, before the name is
 * looked at (the entry-count bound). Refuses encryption and methods other
 * than stored/deflate.
 */
export function parseLocalHeader(b: Uint8Array, counted: () => void): LocalHeader | undefined {
  if (b.length < 30) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nameLen = v.getUint16(26, true);
  const extraLen = v.getUint16(28, true);
  if (b.length < 30 + nameLen + extraLen) return undefined;
  counted();
  const flags = v.getUint16(6, true);
  const method = v.getUint16(8, true);
  const name = decodeZipName(b.subarray(30, 30 + nameLen), flags);
  const quoted = JSON.stringify(name.slice(0, 200));
  if (flags & FLAG_ENCRYPTED) throw new WormholeError('RemoteProtocol', `zip entry ${quoted} is encrypted`);
  if (method !== 0 && method !== 8) throw new WormholeError('RemoteProtocol', `zip entry ${quoted} uses compression method ${method}`);
  const extra = b.subarray(30 + nameLen, 30 + nameLen + extraLen);
  const [size, compressedSize] = zip64Values(extra, [v.getUint32(22, true), v.getUint32(18, true)]) as [number, number];
  return { name, flags, method, crc: v.getUint32(14, true), compressedSize, size, length: 30 + nameLen + extraLen };
}
