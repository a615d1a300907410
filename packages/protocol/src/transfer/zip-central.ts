/**
 * The central directory: its records, and the cross-check against what was
 * streamed. The streaming reader trusts the local headers (and descriptors)
 * while extracting; the central directory is what other readers (Python's
 * zipfile, `unzip`) trust. Requiring the two to agree on every entry — name,
 * method, CRC, both sizes, offset — and on the end record's totals means a
 * zip can never unpack differently here than there.
 */

import { WormholeError } from '../errors.js';
import { readU64, UNIX, U32_MAX, decodeZipName, zip64Values } from './zip-format.js';

/** One central-directory record. */
export interface CentralRecord {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's local header from the start of the zip. */
  readonly offset: number;
  /** Unix permission bits when made on Unix, else undefined. */
  readonly mode: number | undefined;
}

/** An entry as streamed, for the cross-check: a central record without the mode. */
export type StreamedEntry = Omit<CentralRecord, 'mode'>;

/** Parse the central record at the start of `b`; undefined if more bytes are needed. */
export function parseCentralRecord(b: Uint8Array): { record: CentralRecord; length: number } | undefined {
  if (b.length < 46) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nameLen = v.getUint16(28, true);
  const extraLen = v.getUint16(30, true);
  const length = 46 + nameLen + extraLen + v.getUint16(32, true);
  if (b.length < length) return undefined;
  const madeBy = v.getUint16(4, true);
  const flags = v.getUint16(8, true);
  const attrs = v.getUint32(38, true);
  const extra = b.subarray(46 + nameLen, 46 + nameLen + extraLen);
  const [size, compressedSize, offset] = zip64Values(extra, [v.getUint32(24, true), v.getUint32(20, true), v.getUint32(42, true)]) as [number, number, number];
  return {
    length,
    record: {
      name: decodeZipName(b.subarray(46, 46 + nameLen), flags),
      method: v.getUint16(10, true),
      crc: v.getUint32(16, true),
      compressedSize,
      size,
      offset,
      mode: madeBy >> 8 === UNIX ? (attrs >>> 16) & 0o7777 : undefined,
    },
  };
}

const FIELDS = ['name', 'method', 'crc', 'compressedSize', 'size'] as const;

/** Throw `RemoteProtocol` unless the central record describes the streamed entry. */
export function checkCentralRecord(record: CentralRecord, streamed: StreamedEntry | undefined): void {
  if (!streamed) {
    throw new WormholeError('RemoteProtocol', `zip central directory names ${JSON.stringify(record.name)} at offset ${record.offset}, where no entry was streamed`);
  }
  const differs = FIELDS.filter((f) => record[f] !== streamed[f]);
  if (differs.length > 0) {
    throw new WormholeError(
      'RemoteProtocol',
      `zip central directory disagrees with the local entry ${JSON.stringify(streamed.name)} (${differs.join(', ')})`,
    );
  }
}

/** What the end records must state. */
export interface CentralTotals {
  readonly entries: number;
  readonly size: number;
  readonly offset: number;
}

function mismatch(what: string): WormholeError {
  return new WormholeError('RemoteProtocol', `zip end record disagrees with the central directory (${what})`);
}

/** Check the classic end record (22 bytes + comment at the start of `b`). Saturated fields defer to Zip64. */
export function checkEndRecord(b: Uint8Array, actual: CentralTotals): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const entries = v.getUint16(10, true);
  if (entries !== 0xffff && entries !== actual.entries) throw mismatch('entry count');
  if (v.getUint16(8, true) !== entries) throw mismatch('entries on this disk');
  const size = v.getUint32(12, true);
  if (size !== U32_MAX && size !== actual.size) throw mismatch('directory size');
  const offset = v.getUint32(16, true);
  if (offset !== U32_MAX && offset !== actual.offset) throw mismatch('directory offset');
}

/** Check the Zip64 end record (at the start of `b`, `b.length` ≥ 56). */
export function checkZip64EndRecord(b: Uint8Array, actual: CentralTotals): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (readU64(v, 24) !== actual.entries || readU64(v, 32) !== actual.entries) throw mismatch('zip64 entry count');
  if (readU64(v, 40) !== actual.size) throw mismatch('zip64 directory size');
  if (readU64(v, 48) !== actual.offset) throw mismatch('zip64 directory offset');
}
