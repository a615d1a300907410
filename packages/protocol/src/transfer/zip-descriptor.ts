/**
 * Data descriptors (flag bit 3): the CRC and sizes a streaming writer puts
 * after an entry's data instead of in its local header.
 *
 * Four layouts exist in the wild: with or without the (optional) signature
 * 0x08074b50, and with 4- or 8-byte (Zip64) sizes. Python writes 8-byte
 * sizes when the local header has a Zip64 extra field, Go when a file
 * exceeds 4 GiB (without that field). A descriptor is accepted only if every
 * value equals what the data showed AND the next four bytes are the
 * signature of the record that must follow (a local header or the central
 * directory), which makes the layout unambiguous.
 *
 * Stored entries with a descriptor are the hard case: nothing in the data
 * says where it ends. {@link findDescriptorCandidate} is the cheap filter a
 * scanner runs at every byte position; {@link matchDescriptor} the exact
 * test. A false end needs the data itself to hold its own CRC-32 and length
 * at that point (or, for the signature-less layout, its length twice and its
 * CRC); an accidental one is a ~2^-64 event, and a crafted one is caught by
 * the central-directory cross-check (offsets, sizes, CRCs), so a zip is
 * either read exactly as a central-directory reader would read it, or refused.
 */

import type { Crc32 } from './crc32.js';
import { CENTRAL_SIG, DESCRIPTOR_SIG, LOCAL_SIG } from './zip-format.js';

/** Bytes a descriptor decision may look at: the longest layout (24) and the next signature (4). */
export const DESCRIPTOR_LOOKAHEAD = 28;

/** What the entry's data showed. */
export interface EntryTotals {
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
}

function u64(v: DataView, p: number): number {
  return v.getUint32(p, true) + v.getUint32(p + 4, true) * 0x1_0000_0000;
}

/**
 * Length of the descriptor at `p` if one of the four layouts holds exactly
 * `expected` and is followed by a local or central header signature, else 0.
 * Needs {@link DESCRIPTOR_LOOKAHEAD} bytes from `p`.
 */
export function matchDescriptor(v: DataView, p: number, expected: EntryTotals): number {
  for (const signed of [true, false]) {
    if (signed && v.getUint32(p, true) !== DESCRIPTOR_SIG) continue;
    for (const wide of [false, true]) {
      let q = p + (signed ? 4 : 0);
      const crc = v.getUint32(q, true);
      q += 4;
      const csize = wide ? u64(v, q) : v.getUint32(q, true);
      q += wide ? 8 : 4;
      const size = wide ? u64(v, q) : v.getUint32(q, true);
      q += wide ? 8 : 4;
      const next = v.getUint32(q, true);
      if (next !== LOCAL_SIG && next !== CENTRAL_SIG) continue;
      if (crc === expected.crc >>> 0 && csize === expected.compressedSize && size === expected.size) return q - p;
    }
  }
  return 0;
}

/**
 * The first position in `b[from…]` (with {@link DESCRIPTOR_LOOKAHEAD} bytes
 * after it) where a stored entry's descriptor may start, or -1: a
 * descriptor signature, or, for the signature-less layout, the entry's
 * length so far where the compressed size goes. `length` is the entry's
 * length at `b[0]`. A cheap pre-test (bytes first) for
 * {@link matchDescriptor}, run at every position of the data.
 */
export function findDescriptorCandidate(b: Uint8Array, from: number, length: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = b.length - DESCRIPTOR_LOOKAHEAD;
  for (let i = from; i <= end; i++) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 7 && b[i + 3] === 8) return i;
    if (b[i + 4] === ((length + i) & 0xff) && v.getUint32(i + 4, true) === (length + i) % 0x1_0000_0000) return i;
  }
  return -1;
}

/**
 * Scan a stored entry's bytes `b` (`length` bytes of the entry came before
 * `b[0]`): how many are data for sure (`crc` is updated over them), and the
 * length of the matching descriptor right after them, or 0 if its end is
 * not in sight yet (the last {@link DESCRIPTOR_LOOKAHEAD} − 1 bytes stay
 * undecided and must be offered again with what follows).
 */
export function scanStoredData(b: Uint8Array, length: number, crc: Crc32): { data: number; descriptor: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let done = 0;
  for (let from = 0; ; ) {
    const i = findDescriptorCandidate(b, from, length);
    if (i < 0) break;
    crc.update(b.subarray(done, i));
    done = i;
    const descriptor = matchDescriptor(v, i, { crc: crc.digest(), compressedSize: length + i, size: length + i });
    if (descriptor > 0) return { data: i, descriptor };
    from = i + 1;
  }
  const data = Math.max(done, b.length - DESCRIPTOR_LOOKAHEAD + 1);
  crc.update(b.subarray(done, data));
  return { data, descriptor: 0 };
}
