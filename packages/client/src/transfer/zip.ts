/**
 * Directories as streamed zips, with fflate for (de)flate and
 * `@burrow/protocol` for the container.
 *
 * Sending: the offer must state the zip's size before any byte flows, so the
 * sender makes two passes over the files: the first computes each entry's
 * CRC and compressed size (deflate is deterministic for the same input
 * blocks), the second streams headers and data. Memory stays at a few
 * blocks whatever the directory's size; a file that changes between the
 * passes fails the transfer instead of corrupting it.
 *
 * Receiving: a bounded streaming reader; every entry path is checked before
 * anything is created, inflated bytes are counted against the entry's
 * declared size and the offer's `numbytes` (zip bombs stop at the first
 * byte over), CRCs are verified, modes come from the central directory.
 */
import { Deflate, Inflate, type DeflateOptions } from 'fflate';

type DeflateLevel = NonNullable<DeflateOptions['level']>;
import {
  Crc32,
  WormholeError,
  ZipReader,
  encodeCentralDirectory,
  encodeLocalHeader,
  zipArchiveSize,
  zipEntryPath,
  type ZipEvent,
  type ZipLocalEntry,
  type ZipWriteEntry,
} from '@burrow/protocol';
import { fixedBlocks } from './common.js';
import type { DirectoryEntry, DirectorySink, DirectorySource } from './types.js';

const BLOCK = 64 * 1024;
/** Compressed input is fed to inflate in slices this big, so one push expands to at most ~1 MiB. */
const INFLATE_SLICE = 1024;

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

interface OpenFile {
  readonly entry: ZipLocalEntry;
  readonly segments: readonly string[];
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly inflate: Inflate | undefined;
  readonly pending: Uint8Array[];
  readonly crc: Crc32;
  size: number;
}

/** Streams a zip into a DirectorySink with every check listed above. */
export class ZipExtractor {
  readonly #sink: DirectorySink;
  readonly #reader: ZipReader;
  readonly #numfiles: number;
  readonly #dirs = new Set<string>();
  readonly #modes: { segments: string[]; mode: number; isDirectory: boolean }[] = [];
  #files = 0;
  #current: OpenFile | undefined;

  constructor(sink: DirectorySink, limits: { numbytes: number; numfiles: number; maxEntries?: number }) {
    this.#sink = sink;
    this.#numfiles = limits.numfiles;
    this.#reader = new ZipReader({ maxTotalSize: limits.numbytes, maxEntries: limits.maxEntries ?? Math.max(1000, limits.numfiles * 2 + 1000) });
  }

  async push(chunk: Uint8Array): Promise<void> {
    for (const ev of this.#reader.push(chunk)) await this.#handle(ev);
  }

  /** The zip ended: verify it was complete, then apply modes. */
  async finish(): Promise<void> {
    this.#reader.finish();
    // Files first, then directories deepest first, so a read-only directory does not block anything.
    const files = this.#modes.filter((m) => !m.isDirectory);
    const dirs = this.#modes.filter((m) => m.isDirectory).sort((a, b) => b.segments.length - a.segments.length);
    if (this.#sink.chmod) for (const m of [...files, ...dirs]) await this.#sink.chmod(m.segments, m.mode, m.isDirectory);
  }

  /** Close whatever file is open (after a failure). */
  async abort(): Promise<void> {
    const cur = this.#current;
    this.#current = undefined;
    await cur?.writer.abort().catch(() => {});
  }

  async #handle(ev: ZipEvent): Promise<void> {
    switch (ev.type) {
      case 'entry':
        return this.#open(ev.entry);
      case 'data':
        return this.#data(ev.bytes);
      case 'entry-end':
        return this.#close();
      case 'central':
        for (const c of ev.entries) {
          if (c.mode === undefined || (c.mode & 0o777) === 0) continue;
          const p = zipEntryPath(c.name);
          const key = p.segments.join('/');
          if (p.isDirectory ? !this.#dirs.has(key) : false) continue;
          this.#modes.push({ segments: p.segments, mode: c.mode & 0o777, isDirectory: p.isDirectory || this.#dirs.has(key) });
        }
        return;
      case 'end':
        return;
    }
  }

  async #ensureDir(segments: readonly string[]): Promise<void> {
    for (let i = 1; i <= segments.length; i++) {
      const key = segments.slice(0, i).join('/');
      if (this.#dirs.has(key)) continue;
      await this.#sink.mkdir(segments.slice(0, i));
      this.#dirs.add(key);
    }
  }

  async #open(entry: ZipLocalEntry): Promise<void> {
    const { segments, isDirectory } = zipEntryPath(entry.name);
    if (isDirectory) {
      if (entry.size !== 0) throw new WormholeError('RemoteProtocol', `zip directory entry ${JSON.stringify(entry.name)} has data`);
      await this.#ensureDir(segments);
      return;
    }
    if (++this.#files > this.#numfiles) {
      throw new WormholeError('RemoteProtocol', `zip holds more than the ${this.#numfiles} files offered`);
    }
    if (this.#dirs.has(segments.join('/'))) throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(entry.name)} is both a file and a directory`);
    await this.#ensureDir(segments.slice(0, -1));
    const writer = (await this.#sink.createFile(segments)).getWriter();
    const pending: Uint8Array[] = [];
    const inflate = entry.method === 8 ? new Inflate((d) => pending.push(d)) : undefined;
    this.#current = { entry, segments, writer, inflate, pending, crc: new Crc32(), size: 0 };
  }

  async #data(bytes: Uint8Array): Promise<void> {
    const cur = this.#current;
    if (!cur) return; // directory entries have no data (checked above)
    if (!cur.inflate) return this.#out(cur, bytes);
    for (let off = 0; off < bytes.length; off += INFLATE_SLICE) {
      this.#inflate(cur, bytes.subarray(off, off + INFLATE_SLICE), false);
      for (const d of cur.pending.splice(0)) await this.#out(cur, d);
    }
  }

  #inflate(cur: OpenFile, bytes: Uint8Array, final: boolean): void {
    try {
      cur.inflate!.push(bytes, final);
    } catch (cause) {
      throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(cur.entry.name)} is not valid deflate data`, { cause });
    }
  }

  async #out(cur: OpenFile, data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    cur.size += data.length;
    if (cur.size > cur.entry.size) {
      throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(cur.entry.name)} expands beyond its declared ${cur.entry.size} bytes (zip bomb?)`);
    }
    cur.crc.update(data);
    await cur.writer.write(data);
  }

  async #close(): Promise<void> {
    const cur = this.#current;
    if (!cur) return;
    if (cur.inflate) {
      this.#inflate(cur, new Uint8Array(0), true);
      for (const d of cur.pending.splice(0)) await this.#out(cur, d);
    }
    if (cur.size !== cur.entry.size || cur.crc.digest() !== cur.entry.crc) {
      throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(cur.entry.name)} is corrupt (size or CRC mismatch)`);
    }
    this.#current = undefined;
    await cur.writer.close();
  }
}
