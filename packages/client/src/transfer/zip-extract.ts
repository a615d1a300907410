/**
 * Receiving a directory: the zip streams through `@burrow/protocol`'s
 * ZipReader (container, bounds, descriptors, central-directory cross-check)
 * and fflate (inflate) into a DirectorySink.
 *
 * Every entry path is checked before anything is created; unpacked bytes are
 * counted against the entry's size (when its header states it) and against
 * the offer's `numbytes` (zip bombs stop at the first byte over); CRCs and
 * sizes are verified at every entry's end; modes come from the central
 * directory and are applied last.
 */
import { Inflate } from 'fflate';
import { Crc32, WormholeError, ZipReader, zipEntryPath, type ZipEntryTotals, type ZipEvent, type ZipLocalEntry } from '@burrow/protocol';
import type { DirectorySink } from './types.js';

/** Compressed input is fed to inflate in slices this big, so one push expands to at most ~1 MiB. */
const INFLATE_SLICE = 1024;

interface OpenEntry {
  readonly entry: ZipLocalEntry;
  /** Undefined for a directory entry (which must unpack to nothing). */
  readonly writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly inflate: Inflate | undefined;
  readonly pending: Uint8Array[];
  readonly crc: Crc32;
  size: number;
  /** The deflate stream has ended (entries whose end the inflater finds). */
  ended: boolean;
}

interface InflateInternals {
  s?: { f?: number; l?: unknown; p?: number };
  p?: Uint8Array;
}

/**
 * Bytes of input fflate's streaming Inflate has not consumed, once the
 * deflate stream has ended (its final block is complete); undefined before.
 * fflate has no public API for this; its state does say it: `s.f` (final
 * block seen), `s.l` (a Huffman block in progress), `s.p` (bit position in
 * the pending input `p`). Pinned against the installed fflate by
 * packages/client/test/zip-inflate-end.test.ts.
 */
export function inflateLeftover(inflate: Inflate): number | undefined {
  const { s, p } = inflate as unknown as InflateInternals;
  if (typeof s !== 'object' || s === null || !(p instanceof Uint8Array)) throw new Error('unsupported fflate version (Inflate internals changed)');
  if (!s.f || s.l) return undefined;
  return Math.max(0, p.length - (((s.p ?? 0) + 7) >> 3));
}

/** Streams a zip into a DirectorySink with every check listed above. */
export class ZipExtractor {
  readonly #sink: DirectorySink;
  readonly #reader: ZipReader;
  readonly #numfiles: number;
  readonly #numbytes: number;
  readonly #dirs = new Set<string>();
  /** Paths of the files written (bounded by `numfiles`), so a later entry cannot use one as a directory. */
  readonly #filePaths = new Set<string>();
  readonly #modes: { segments: string[]; mode: number; isDirectory: boolean }[] = [];
  #files = 0;
  #unpacked = 0;
  #current: OpenEntry | undefined;

  constructor(sink: DirectorySink, limits: { numbytes: number; numfiles: number; maxEntries?: number }) {
    this.#sink = sink;
    this.#numfiles = limits.numfiles;
    this.#numbytes = limits.numbytes;
    this.#reader = new ZipReader({ maxTotalSize: limits.numbytes, maxEntries: limits.maxEntries ?? Math.max(1000, limits.numfiles * 2 + 1000) });
  }

  async push(chunk: Uint8Array): Promise<void> {
    let events = this.#reader.push(chunk);
    for (let i = 0; i < events.length; i++) {
      const more = await this.#handle(events[i]!);
      // The end of a deflate stream was found: the reader goes on from there.
      if (more) (events = [...more, ...events.slice(i + 1)]), (i = -1);
    }
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
    // Only releases the handle: the sink's abort() then removes everything,
    // so a handle that fails to abort changes nothing the caller could act on.
    await cur?.writer?.abort().catch(() => undefined);
  }

  async #handle(ev: ZipEvent): Promise<ZipEvent[] | undefined> {
    switch (ev.type) {
      case 'entry':
        return void (await this.#open(ev.entry));
      case 'data':
        return this.#data(ev.bytes);
      case 'entry-end':
        return void (await this.#close(ev));
      case 'central':
        for (const c of ev.entries) {
          if (c.mode === undefined || (c.mode & 0o777) === 0) continue;
          const p = zipEntryPath(c.name);
          const key = p.segments.join('/');
          if (p.isDirectory ? !this.#dirs.has(key) : false) continue;
          this.#modes.push({ segments: p.segments, mode: c.mode & 0o777, isDirectory: p.isDirectory || this.#dirs.has(key) });
        }
        return undefined;
      case 'end':
        return undefined;
    }
  }

  async #ensureDir(segments: readonly string[]): Promise<void> {
    for (let i = 1; i <= segments.length; i++) {
      const key = segments.slice(0, i).join('/');
      if (this.#dirs.has(key)) continue;
      if (this.#filePaths.has(key)) throw this.#fileAndDir(key);
      await this.#sink.mkdir(segments.slice(0, i));
      this.#dirs.add(key);
    }
  }

  async #open(entry: ZipLocalEntry): Promise<void> {
    const { segments, isDirectory } = zipEntryPath(entry.name);
    let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
    if (isDirectory) {
      if (entry.size !== undefined && entry.size !== 0) throw this.#dirHasData(entry);
      await this.#ensureDir(segments);
    } else {
      if (++this.#files > this.#numfiles) {
        throw new WormholeError('RemoteProtocol', `zip holds more than the ${this.#numfiles} files offered`);
      }
      const key = segments.join('/');
      if (this.#dirs.has(key)) throw this.#fileAndDir(key);
      // Parents come from the path: a zip need not (Burrow's and Python's do not) hold entries for non-empty directories.
      await this.#ensureDir(segments.slice(0, -1));
      this.#filePaths.add(key);
      writer = (await this.#sink.createFile(segments)).getWriter();
    }
    const pending: Uint8Array[] = [];
    const inflate = entry.method === 8 ? new Inflate((d) => pending.push(d)) : undefined;
    this.#current = { entry, writer, inflate, pending, crc: new Crc32(), size: 0, ended: false };
  }

  #fileAndDir(path: string): WormholeError {
    return new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(path)} is both a file and a directory`);
  }

  #dirHasData(entry: ZipLocalEntry): WormholeError {
    return new WormholeError('RemoteProtocol', `zip directory entry ${JSON.stringify(entry.name)} has data`);
  }

  /** Returns the reader's next events when this data held the end of a deflate stream. */
  async #data(bytes: Uint8Array): Promise<ZipEvent[] | undefined> {
    const cur = this.#current!;
    if (!cur.inflate) return void (await this.#out(cur, bytes));
    for (let off = 0; off < bytes.length; off += INFLATE_SLICE) {
      const slice = bytes.subarray(off, off + INFLATE_SLICE);
      this.#inflate(cur, slice, false);
      for (const d of cur.pending.splice(0)) await this.#out(cur, d);
      if (cur.entry.end !== 'deflate') continue;
      const left = inflateLeftover(cur.inflate);
      if (left === undefined) continue;
      if (left > slice.length) throw new Error('inflate left more input than it was given');
      cur.ended = true;
      return this.#reader.endOfData(left + bytes.length - off - slice.length, { crc: cur.crc.digest(), size: cur.size });
    }
    return undefined;
  }

  #inflate(cur: OpenEntry, bytes: Uint8Array, final: boolean): void {
    try {
      cur.inflate!.push(bytes, final);
    } catch (cause) {
      throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(cur.entry.name)} is not valid deflate data`, { cause });
    }
  }

  async #out(cur: OpenEntry, data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    if (!cur.writer) throw this.#dirHasData(cur.entry);
    cur.size += data.length;
    this.#unpacked += data.length;
    const declared = cur.entry.size;
    if ((declared !== undefined && cur.size > declared) || this.#unpacked > this.#numbytes) {
      throw new WormholeError(
        'RemoteProtocol',
        `zip entry ${JSON.stringify(cur.entry.name)} expands beyond ${declared !== undefined && cur.size > declared ? `its declared ${declared}` : `the ${this.#numbytes} offered`} bytes (zip bomb?)`,
      );
    }
    cur.crc.update(data);
    await cur.writer.write(data);
  }

  async #close(totals: ZipEntryTotals): Promise<void> {
    const cur = this.#current!;
    if (cur.inflate && !cur.ended) {
      this.#inflate(cur, new Uint8Array(0), true);
      for (const d of cur.pending.splice(0)) await this.#out(cur, d);
    }
    if (cur.size !== totals.size || cur.crc.digest() !== totals.crc) {
      throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(cur.entry.name)} is corrupt (size or CRC mismatch)`);
    }
    this.#current = undefined;
    await cur.writer?.close();
  }
}
