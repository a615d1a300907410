/**
 * The zip container of a directory transfer, sans-I/O: CRC-32, entry-path
 * safety, header encoding for a writer that knows every size up front, and a
 * streaming reader with bounds. (De)compression itself is the caller's
 * (the client uses fflate), so this module stays dependency-free.
 *
 * What `wormhole send DIR` produces (Python `zipfile` into a seekable file):
 * local headers carrying sizes and CRC (no data descriptors), deflated files,
 * no directory entries, Unix mode bits in the central directory's external
 * attributes (`st_mode << 16`, "version made by" OS 3). Burrow's writer
 * produces the same layout, plus entries for empty directories.
 */

import { utf8, fromUtf8 } from '../bytes.js';
import { WormholeError } from '../errors.js';

// ---------------------------------------------------------------- CRC-32

const CRC_TABLE = /* @__PURE__ */ (() => {
  const t = new Int32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * Incremental CRC-32 (zip/PNG polynomial).
 *
 * @example
 * const c = new Crc32(); c.update(a); c.update(b); c.digest(); // unsigned 32-bit
 */
export class Crc32 {
  #c = -1;

  update(data: Uint8Array): this {
    const t = CRC_TABLE;
    let c = this.#c;
    let i = 0;
    const n = data.length;
    for (; i + 4 <= n; i += 4) {
      c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
    }
    for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.#c = c;
    return this;
  }

  digest(): number {
    return ~this.#c >>> 0;
  }
}

// ---------------------------------------------------------------- paths

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

// ---------------------------------------------------------------- writing

/** Zip compression methods we read and write. */
export type ZipMethod = 0 | 8;

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

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const DESCRIPTOR_SIG = 0x08074b50;
const U32_MAX = 0xffffffff;
const UNIX = 3;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

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
  const flags = isAscii(e.name) ? 0 : 0x800; // bit 11: UTF-8 name
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

// ---------------------------------------------------------------- reading

/** A local entry as announced before its data. */
export interface ZipLocalEntry {
  readonly name: string;
  readonly method: ZipMethod;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly isDirectory: boolean;
}

/** What the central directory says about an entry (for modes). */
export interface ZipCentralEntry {
  readonly name: string;
  /** Unix permission bits (`& 0o7777`) when the entry was made on Unix, else undefined. */
  readonly mode: number | undefined;
}

export type ZipEvent =
  | { readonly type: 'entry'; readonly entry: ZipLocalEntry }
  /** Compressed bytes of the current entry (a view; copy to keep). */
  | { readonly type: 'data'; readonly bytes: Uint8Array }
  | { readonly type: 'entry-end' }
  | { readonly type: 'central'; readonly entries: readonly ZipCentralEntry[] }
  | { readonly type: 'end' };

export interface ZipReaderOptions {
  /** Most entries accepted (files + directories). Default 100 000. */
  maxEntries?: number;
  /** Most bytes all entries may expand to (sum of declared sizes). Default unbounded. */
  maxTotalSize?: number;
}

type ReadState =
  | { s: 'signature' }
  | { s: 'local' }
  | { s: 'data'; left: number }
  | { s: 'descriptor' }
  | { s: 'central' }
  | { s: 'eocd' }
  | { s: 'zip64-eocd' }
  | { s: 'zip64-locator' }
  | { s: 'done' };

/**
 * Streaming zip reader: push the zip's bytes in any chunking, get events.
 * Entries must carry their sizes in the local header (Python's zipfile and
 * Burrow write them so); entries that only have a data descriptor,
 * encryption, or methods other than stored/deflate are refused. Every
 * failure is a `WormholeError('RemoteProtocol')` and is final.
 *
 * @example
 * const r = new ZipReader({ maxTotalSize: offer.numbytes });
 * for (const ev of r.push(chunk)) …
 * r.finish(); // throws if the zip was truncated
 */
export class ZipReader {
  readonly #maxEntries: number;
  readonly #maxTotal: number;
  #state: ReadState = { s: 'signature' };
  #buf: Uint8Array = new Uint8Array(0);
  #entries = 0;
  #declared = 0;
  #hasDescriptor = false;
  #central: ZipCentralEntry[] = [];
  #failure: WormholeError | undefined;

  constructor(options: ZipReaderOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#maxTotal = options.maxTotalSize ?? Number.MAX_SAFE_INTEGER;
  }

  /** Entries seen so far. */
  get entries(): number {
    return this.#entries;
  }

  get done(): boolean {
    return this.#state.s === 'done';
  }

  push(chunk: Uint8Array): ZipEvent[] {
    if (this.#failure) throw this.#failure;
    try {
      return this.#push(chunk);
    } catch (err) {
      this.#failure =
        err instanceof WormholeError ? err : new WormholeError('RemoteProtocol', `malformed zip: ${String(err)}`, { cause: err });
      throw this.#failure;
    }
  }

  /** Call at the end of the input: throws unless the zip ended properly. */
  finish(): void {
    if (this.#failure) throw this.#failure;
    if (this.#state.s !== 'done') throw (this.#failure = new WormholeError('RemoteProtocol', 'zip is truncated'));
  }

  #push(chunk: Uint8Array): ZipEvent[] {
    const events: ZipEvent[] = [];
    let input = chunk;
    for (;;) {
      const st = this.#state;
      if (st.s === 'data') {
        if (st.left > 0 && input.length > 0) {
          const n = Math.min(st.left, input.length);
          events.push({ type: 'data', bytes: input.subarray(0, n) });
          st.left -= n;
          input = input.subarray(n);
        }
        if (st.left > 0) return events;
        events.push({ type: 'entry-end' });
        this.#state = this.#hasDescriptor ? { s: 'descriptor' } : { s: 'signature' };
        continue;
      }
      if (st.s === 'done') {
        if (input.length > 0) throw new WormholeError('RemoteProtocol', 'malformed zip: data after the end record');
        return events;
      }
      // Header states: gather bytes until the structure is complete.
      this.#append(input);
      input = new Uint8Array(0);
      const progressed = this.#header(events);
      if (!progressed) return events;
      // Whatever is left in #buf after a header flows on as input.
      input = this.#buf;
      this.#buf = new Uint8Array(0);
    }
  }

  #append(input: Uint8Array): void {
    if (input.length === 0) return;
    const next = new Uint8Array(this.#buf.length + input.length);
    next.set(this.#buf);
    next.set(input, this.#buf.length);
    this.#buf = next;
    if (this.#buf.length > 3 * 65536 + 1024 && this.#state.s !== 'data') {
      // No header we accept is this long; a peer dribbling junk cannot grow us.
      throw new WormholeError('RemoteProtocol', 'malformed zip: header too long');
    }
  }

  /** Parse one structure at the start of #buf. Returns false if more bytes are needed. */
  #header(events: ZipEvent[]): boolean {
    const b = this.#buf;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const need = (n: number) => b.length >= n;
    const consume = (n: number) => {
      this.#buf = b.subarray(n);
    };
    switch (this.#state.s) {
      case 'signature': {
        if (!need(4)) return false;
        const sig = v.getUint32(0, true);
        if (sig === LOCAL_SIG) this.#state = { s: 'local' };
        else if (sig === CENTRAL_SIG) this.#state = { s: 'central' };
        else if (sig === EOCD_SIG) this.#state = { s: 'eocd' };
        else if (sig === ZIP64_EOCD_SIG) this.#state = { s: 'zip64-eocd' };
        else if (sig === ZIP64_LOCATOR_SIG) this.#state = { s: 'zip64-locator' };
        else throw new WormholeError('RemoteProtocol', `malformed zip: unexpected signature 0x${sig.toString(16)}`);
        return true;
      }
      case 'local': {
        if (!need(30)) return false;
        const flags = v.getUint16(6, true);
        const method = v.getUint16(8, true);
        let crc = v.getUint32(14, true);
        let csize = v.getUint32(18, true);
        let size = v.getUint32(22, true);
        const nameLen = v.getUint16(26, true);
        const extraLen = v.getUint16(28, true);
        if (!need(30 + nameLen + extraLen)) return false;
        if (++this.#entries > this.#maxEntries) throw new WormholeError('RemoteProtocol', `zip has more than ${this.#maxEntries} entries`);
        const nameBytes = b.subarray(30, 30 + nameLen);
        const name = this.#decodeName(nameBytes, flags);
        if (flags & 1) throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(name)} is encrypted`);
        if (method !== 0 && method !== 8) throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(name)} uses compression method ${method}`);
        if (csize === U32_MAX || size === U32_MAX) {
          const z = zip64Sizes(b.subarray(30 + nameLen, 30 + nameLen + extraLen), size === U32_MAX, csize === U32_MAX);
          if (z.size !== undefined) size = z.size;
          if (z.csize !== undefined) csize = z.csize;
        }
        this.#hasDescriptor = (flags & 8) !== 0;
        if (this.#hasDescriptor && csize === 0 && size === 0 && !name.endsWith('/')) {
          throw new WormholeError('RemoteProtocol', `zip entry ${JSON.stringify(name)} has no sizes in its local header (data descriptor), which cannot be streamed`);
        }
        if (method === 0 && csize !== size) throw new WormholeError('RemoteProtocol', `stored zip entry ${JSON.stringify(name)} has mismatched sizes`);
        this.#declared += size;
        if (this.#declared > this.#maxTotal) {
          throw new WormholeError('RemoteProtocol', `zip expands to more than the ${this.#maxTotal} bytes offered (zip bomb?)`);
        }
        crc >>>= 0;
        consume(30 + nameLen + extraLen);
        events.push({ type: 'entry', entry: { name, method, crc, compressedSize: csize, size, isDirectory: name.endsWith('/') } });
        this.#state = { s: 'data', left: csize };
        return true;
      }
      case 'descriptor': {
        if (!need(4)) return false;
        const withSig = v.getUint32(0, true) === DESCRIPTOR_SIG;
        const n = withSig ? 16 : 12;
        if (!need(n)) return false;
        consume(n);
        this.#state = { s: 'signature' };
        return true;
      }
      case 'central': {
        if (!need(46)) return false;
        const madeBy = v.getUint16(4, true);
        const flags = v.getUint16(8, true);
        const nameLen = v.getUint16(28, true);
        const extraLen = v.getUint16(30, true);
        const commentLen = v.getUint16(32, true);
        const attrs = v.getUint32(38, true);
        const total = 46 + nameLen + extraLen + commentLen;
        if (!need(total)) return false;
        if (this.#central.length >= this.#entries) throw new WormholeError('RemoteProtocol', 'malformed zip: more central records than entries');
        const name = this.#decodeName(b.subarray(46, 46 + nameLen), flags);
        const mode = madeBy >> 8 === UNIX ? (attrs >>> 16) & 0o7777 : undefined;
        this.#central.push({ name, mode });
        consume(total);
        this.#state = { s: 'signature' };
        return true;
      }
      case 'zip64-eocd': {
        if (!need(12)) return false;
        const size = Number(v.getBigUint64(4, true));
        if (size > 65536) throw new WormholeError('RemoteProtocol', 'malformed zip: huge zip64 end record');
        if (!need(12 + size)) return false;
        consume(12 + size);
        this.#state = { s: 'signature' };
        return true;
      }
      case 'zip64-locator': {
        if (!need(20)) return false;
        consume(20);
        this.#state = { s: 'signature' };
        return true;
      }
      case 'eocd': {
        if (!need(22)) return false;
        const commentLen = v.getUint16(20, true);
        if (!need(22 + commentLen)) return false;
        consume(22 + commentLen);
        if (this.#central.length !== this.#entries) {
          throw new WormholeError('RemoteProtocol', `malformed zip: ${this.#entries} entries but ${this.#central.length} central records`);
        }
        events.push({ type: 'central', entries: this.#central });
        events.push({ type: 'end' });
        this.#state = { s: 'done' };
        return true;
      }
      default:
        return false;
    }
  }

  #decodeName(bytes: Uint8Array, flags: number): string {
    if (flags & 0x800) {
      try {
        return fromUtf8(bytes);
      } catch {
        throw new WormholeError('RemoteProtocol', 'zip entry name is not valid UTF-8');
      }
    }
    // CP437 for the ASCII range; Python decodes the rest as cp437 too. We only
    // accept ASCII here: anything else without the UTF-8 flag is refused.
    let s = '';
    for (const c of bytes) {
      if (c >= 0x80) {
        // Many tools write UTF-8 without the flag; accept it if it decodes.
        try {
          return fromUtf8(bytes);
        } catch {
          throw new WormholeError('RemoteProtocol', 'zip entry name is neither ASCII nor UTF-8');
        }
      }
      s += String.fromCharCode(c);
    }
    return s;
  }
}

function zip64Sizes(extra: Uint8Array, wantSize: boolean, wantCsize: boolean): { size?: number; csize?: number } {
  const v = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (id === 0x0001) {
      let q = p + 4;
      const out: { size?: number; csize?: number } = {};
      if (wantSize && q + 8 <= p + 4 + len) (out.size = Number(v.getBigUint64(q, true))), (q += 8);
      if (wantCsize && q + 8 <= p + 4 + len) (out.csize = Number(v.getBigUint64(q, true))), (q += 8);
      if ((wantSize && out.size === undefined) || (wantCsize && out.csize === undefined)) break;
      if (!Number.isSafeInteger(out.size ?? 0) || !Number.isSafeInteger(out.csize ?? 0)) break;
      return out;
    }
    p += 4 + len;
  }
  throw new WormholeError('RemoteProtocol', 'malformed zip: zip64 sizes missing');
}
