/**
 * Sending a directory as a streamed zip, with fflate for deflate and
 * `@burrow/protocol` for the container (receiving: zip-extract.ts).
 *
 * The offer must state the zip's size before any byte flows, so the
 * sender makes two passes over the files: the first computes each entry's
 * CRC and compressed size (deflate is deterministic for the same input
 * blocks), the second streams headers and data. Memory stays at a few
 * blocks whatever the directory's size; a file that changes between the
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
  zipEntryPath,
  type ZipWriteEntry,
} from '@burrow/protocol';
import { fixedBlocks } from './common.js';
import type { DirectoryEntry, DirectorySource } from './types.js';

const BLOCK = 64 * 1024;

export interface ZipPlan {
  readonly entries: readonly ZipWriteEntry[];
  readonly sources: readonly (DirectoryEntry | undefined)[];
  readonly zipsize: number;
  readonly numbytes: number;
  readonly numfiles: number;
  readonly level: number;
}

function normalizePath(path: string): string {
  const { segments } = zipEntryPath(path.replace(/\/+$/, ''));
  return segments.join('/');
}

/** Pass 1: sizes and CRCs of everything, without keeping any data. */
export async function planZip(source: DirectorySource, level: number, signal?: AbortSignal): Promise<ZipPlan> {
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new WormholeError('Usage', 'compressionLevel must be an integer 0–9');
  const entries: ZipWriteEntry[] = [];
  const sources: (DirectoryEntry | undefined)[] = [];
  const dirs = new Set<string>();
  const fallbackTime = Date.now();
  const addDir = (path: string, e?: DirectoryEntry) => {
    if (dirs.has(path)) return;
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (parent) addDir(parent);
    dirs.add(path);
    entries.push({ name: `${path}/`, mode: e?.mode ?? 0o755, method: 0, crc: 0, compressedSize: 0, size: 0, mtimeMs: e?.mtimeMs ?? fallbackTime });
    sources.push(e);
  };
  let numbytes = 0;
  let numfiles = 0;
  for (const e of source.entries) {
    let path: string;
    try {
      path = normalizePath(e.path);
    } catch {
      throw new WormholeError('Usage', `bad path in directory source: ${JSON.stringify(e.path)}`);
    }
    if (e.type === 'directory') {
      addDir(path, e);
      continue;
    }
    if (!e.open) throw new WormholeError('Usage', `file entry ${e.path} has no open()`);
    if (path.includes('/')) addDir(path.slice(0, path.lastIndexOf('/')));
    const crc = new Crc32();
    let size = 0;
    let csize = 0;
    const deflate = level > 0 ? new Deflate({ level: level as DeflateLevel }, (d) => (csize += d.length)) : undefined;
    for await (const block of fixedBlocks(e.open(), BLOCK, signal)) {
      crc.update(block);
      size += block.length;
      deflate?.push(block);
    }
    deflate?.push(new Uint8Array(0), true);
    const deflated = deflate !== undefined && csize < size;
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
  return { entries, sources, zipsize: zipArchiveSize(entries), numbytes, numfiles, level };
}

/** Pass 2: stream the zip described by `plan`, checking every file is unchanged. */
export async function writeZip(plan: ZipPlan, write: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < plan.entries.length; i++) {
    const e = plan.entries[i]!;
    await write(encodeLocalHeader(e));
    if (e.name.endsWith('/')) continue;
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
