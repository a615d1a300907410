/**
 * Sending a directory as a streamed zip, with fflate for deflate and
 * `@burrow/protocol` for the container (receiving: zip-extract.ts).
 *
 * The offer must state the zip's size before any byte flows, and a file's
 * deflated size is known only once it is compressed, so the sender makes two
 * passes: the first computes each entry's CRC and compressed size (deflate
 * is deterministic for the same input blocks), the second streams headers
 * and data. What the first pass produced is kept, up to {@link SPOOL_BYTES}
 * in all, so small files are read and compressed once; larger ones are read
 * again (keeping them would mean buffering whole files). Memory stays bounded
 * whatever the directory's size; a re-read file that changed between the
 * passes fails the transfer instead of corrupting it.
 */
import { Deflate, type DeflateOptions } from 'fflate';

type DeflateLevel = NonNullable<DeflateOptions['level']>;
import {
  Crc32,
  WormholeError,
  encodeCentralDirectory,
  encodeLocalHeader,
  zipArchiveSize,
  zipTreeNames,
  type ZipWriteEntry,
} from '@burrow/protocol';
import { fixedBlocks } from './common.js';
import type { DirectoryEntry, DirectorySource } from './types.js';

const BLOCK = 64 * 1024;
/** Entry data (stored or deflated, as it goes on the wire) kept from pass 1 so pass 2 need not read it again. */
export const SPOOL_BYTES = 8 * 1024 * 1024;

/** Pass-1 output of one file, kept while it fits in what is left of the spool. */
class EntrySpool {
  raw: Uint8Array[] = [];
  packed: Uint8Array[] = [];
  #bytes = 0;
  #full = false;

  constructor(private readonly budget: number) {}

  add(list: 'raw' | 'packed', chunk: Uint8Array): void {
    if (this.#full) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.budget) {
      this.#full = true;
      this.raw = [];
      this.packed = [];
    } else {
      this[list].push(chunk);
    }
  }

  /** The kept data of the entry as it is written, or undefined when it did not fit. */
  result(deflated: boolean): Uint8Array[] | undefined {
    return this.#full ? undefined : deflated ? this.packed : this.raw;
  }
}

export interface ZipPlan {
  readonly entries: readonly ZipWriteEntry[];
  readonly sources: readonly (DirectoryEntry | undefined)[];
  /** Per entry: its data as written, when pass 1 could keep it. */
  readonly spooled: readonly (readonly Uint8Array[] | undefined)[];
  readonly zipsize: number;
  readonly numbytes: number;
  readonly numfiles: number;
  readonly level: number;
}

/**
 * Pass 1: sizes and CRCs of everything, keeping at most `spoolBytes` of entry data for pass 2.
 *
 * The zip holds an entry per file and per EMPTY directory only
 * (`zipTreeNames`, the Python CLI's layout). The offer's counts describe that
 * zip exactly: `zipsize` is its byte length, `numbytes` the sum of its
 * entries' unpacked sizes (files; a directory entry is 0), and `numfiles`
 * the number of its entries, empty-directory entries included. Python's
 * sender counts `num_files += 1` per entry it writes, and it writes only
 * files (it drops empty directories), so there entries = files; we keep
 * "entries", not "files", because wormhole-william refuses a zip whose entry
 * count differs from `numfiles` ("zip error: corrupted zip file"), Python's
 * receiver only prints it, and Burrow's extractor only checks that the file
 * entries do not exceed it.
 */
export async function planZip(source: DirectorySource, level: number, signal?: AbortSignal, spoolBytes = SPOOL_BYTES): Promise<ZipPlan> {
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new WormholeError('Usage', 'compressionLevel must be an integer 0–9');
  const names = zipTreeNames(source.entries);
  const entries: ZipWriteEntry[] = [];
  const sources: (DirectoryEntry | undefined)[] = [];
  const spooled: (Uint8Array[] | undefined)[] = [];
  let spoolLeft = spoolBytes;
  const fallbackTime = Date.now();
  let numbytes = 0;
  let numfiles = 0;
  for (const [i, e] of source.entries.entries()) {
    const path = names[i];
    if (path === undefined) continue; // a directory its files imply
    if (e.type === 'directory') {
      entries.push({ name: path, mode: e.mode ?? 0o755, method: 0, crc: 0, compressedSize: 0, size: 0, mtimeMs: e.mtimeMs ?? fallbackTime });
      sources.push(e);
      spooled.push(undefined);
      numfiles++;
      continue;
    }
    if (!e.open) throw new WormholeError('Usage', `file entry ${e.path} has no open()`);
    const crc = new Crc32();
    let size = 0;
    let csize = 0;
    const spool = new EntrySpool(spoolLeft);
    const onDeflated = (d: Uint8Array) => {
      csize += d.length;
      spool.add('packed', d);
    };
    const deflate = level > 0 ? new Deflate({ level: level as DeflateLevel }, onDeflated) : undefined;
    for await (const block of fixedBlocks(e.open(), BLOCK, signal)) {
      crc.update(block);
      size += block.length;
      spool.add('raw', block); // fixedBlocks yields a fresh block each time
      deflate?.push(block);
    }
    deflate?.push(new Uint8Array(0), true);
    const deflated = deflate !== undefined && csize < size;
    const kept = spool.result(deflated);
    if (kept) spoolLeft -= deflated ? csize : size;
    spooled.push(kept);
    entries.push({
      name: path,
      mode: e.mode ?? 0o644,
      method: deflated ? 8 : 0,
      crc: crc.digest(),
      compressedSize: deflated ? csize : size,
      size,
      mtimeMs: e.mtimeMs ?? fallbackTime,
    });
    sources.push(e);
    numbytes += size;
    numfiles++;
  }
  // Throws RangeError early if this needs Zip64.
  encodeCentralDirectory(entries);
  return { entries, sources, spooled, zipsize: zipArchiveSize(entries), numbytes, numfiles, level };
}

/** Pass 2: stream the zip described by `plan`, checking every re-read file is unchanged. */
export async function writeZip(plan: ZipPlan, write: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < plan.entries.length; i++) {
    const e = plan.entries[i]!;
    await write(encodeLocalHeader(e));
    if (e.name.endsWith('/')) continue;
    const kept = plan.spooled[i];
    if (kept) {
      // Read and compressed in pass 1: the same bytes, no second read.
      for (const chunk of kept) await write(chunk);
      continue;
    }
    const src = plan.sources[i]!;
    const crc = new Crc32();
    let size = 0;
    let csize = 0;
    const out: Uint8Array[] = [];
    const deflate = e.method === 8 ? new Deflate({ level: plan.level as DeflateLevel }, (d) => out.push(d)) : undefined;
    const emit = async () => {
      for (const d of out.splice(0)) {
        csize += d.length;
        if (csize > e.compressedSize) break;
        await write(d);
      }
    };
    for await (const block of fixedBlocks(src.open!(), BLOCK, signal)) {
      crc.update(block);
      size += block.length;
      if (size > e.size) break;
      if (deflate) {
        deflate.push(block);
        await emit();
      } else {
        csize += block.length;
        await write(block);
      }
    }
    if (deflate && size === e.size) {
      deflate.push(new Uint8Array(0), true);
      await emit();
    }
    if (size !== e.size || csize !== e.compressedSize || crc.digest() !== e.crc) {
      throw new WormholeError('TransferFailed', `${src.path} changed while it was being sent`, { blame: 'local' });
    }
  }
  await write(encodeCentralDirectory(plan.entries));
}
