/**
 * Streaming zip reader, sans-I/O: push the zip's bytes in any chunking, get
 * events. (De)compression is the caller's, so this module stays
 * dependency-free; the caller inflates `data` of deflated entries.
 *
 * Where an entry's data ends:
 * - `'size'`: the local header states the sizes (Python's zipfile into a
 *   file, Burrow's writer). If flag bit 3 is set too, the descriptor after
 *   the data must repeat them.
 * - `'deflate'`: deflated, sizes only in a data descriptor (streaming
 *   writers: Go, Java, Python into a pipe). The data ends where the deflate
 *   stream ends, which only the caller's inflater sees: the reader hands out
 *   every byte as `data`, and the caller reports the end with
 *   {@link ZipReader.endOfData}; the descriptor is then read and checked.
 * - `'scan'`: stored with a data descriptor. The reader finds the end by
 *   scanning for a descriptor that matches the bytes so far (see
 *   zip-descriptor.ts for why this is exact), holding back at most 27 bytes.
 *
 * Every `entry-end` carries the entry's final CRC and sizes, which the caller
 * checks what it unpacked against. The central directory must agree with
 * every streamed entry (zip-central.ts). Bounds: entry count, total size,
 * header length. Every failure is a final `WormholeError('RemoteProtocol')`.
 */

import { concatBytes } from '../bytes.js';
import { WormholeError } from '../errors.js';
import { Crc32 } from './crc32.js';
import { checkCentralRecord, checkEndRecord, checkZip64EndRecord, parseCentralRecord, type CentralTotals, type StreamedEntry } from './zip-central.js';
import { DESCRIPTOR_LOOKAHEAD, matchDescriptor, scanStoredData } from './zip-descriptor.js';
import {
  CENTRAL_SIG,
  EOCD_SIG,
  FLAG_DESCRIPTOR,
  LOCAL_SIG,
  ZIP64_EOCD_SIG,
  ZIP64_LOCATOR_SIG,
  parseLocalHeader,
  readU64,
  type ZipMethod,
} from './zip-format.js';

/** An entry's CRC-32 and sizes. */
export interface ZipEntryTotals {
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
}

/** A local entry as announced before its data. */
export interface ZipLocalEntry {
  readonly name: string;
  readonly method: ZipMethod;
  /** From the local header; undefined when they follow the data (see `entry-end`). */
  readonly crc: number | undefined;
  readonly compressedSize: number | undefined;
  readonly size: number | undefined;
  readonly isDirectory: boolean;
  /** How the data's end is found (see the module comment). */
  readonly end: 'size' | 'deflate' | 'scan';
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
  /** The entry's data is over; what it unpacks to must match these. */
  | ({ readonly type: 'entry-end' } & ZipEntryTotals)
  | { readonly type: 'central'; readonly entries: readonly ZipCentralEntry[] }
  | { readonly type: 'end' };

export interface ZipReaderOptions {
  /** Most entries accepted (files + directories). Default 100 000. */
  maxEntries?: number;
  /** Most bytes all entries may expand to (sum of sizes). Default unbounded. */
  maxTotalSize?: number;
}

type ReadState =
  | { s: 'signature' }
  | { s: 'local' }
  | { s: 'data'; left: number }
  | { s: 'inflate'; last: Uint8Array }
  | { s: 'scan'; hold: Uint8Array; crc: Crc32 }
  | { s: 'descriptor'; expected: ZipEntryTotals }
  | { s: 'central' }
  | { s: 'eocd' }
  | { s: 'zip64-eocd' }
  | { s: 'zip64-locator' }
  | { s: 'done' };

interface Current {
  readonly offset: number;
  readonly name: string;
  readonly method: ZipMethod;
  /** Sizes from the local header, if it had them. */
  readonly header: ZipEntryTotals | undefined;
  readonly descriptor: boolean;
  /** Data bytes handed out so far. */
  dataBytes: number;
}

const EMPTY = new Uint8Array(0);
const quote = (name: string) => JSON.stringify(name.slice(0, 200));

/**
 * @example
 * const r = new ZipReader({ maxTotalSize: offer.numbytes });
 * for (const ev of r.push(chunk)) …  // on a 'deflate' entry's end: r.endOfData(unused, totals)
 * r.finish(); // throws if the zip was truncated
 */
export class ZipReader {
  readonly #maxEntries: number;
  readonly #maxTotal: number;
  #state: ReadState = { s: 'signature' };
  #buf: Uint8Array = EMPTY;
  /** Offset in the zip of the next byte not yet consumed. */
  #pos = 0;
  #entries = 0;
  #declared = 0;
  #cur: Current | undefined;
  readonly #streamed = new Map<number, StreamedEntry>();
  #cdStart: number | undefined;
  #cdTotals: CentralTotals | undefined;
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
    return this.#guard(() => this.#push(chunk));
  }

  /**
   * The caller's inflater reached the end of the current `'deflate'` entry's
   * stream while handling the last `data` event: its final `unused` bytes are
   * not part of the entry, and the entry unpacked to `size` bytes with CRC
   * `crc`. Returns the events that follow (the descriptor is checked first).
   */
  endOfData(unused: number, unpacked: { crc: number; size: number }): ZipEvent[] {
    const st = this.#state;
    if (st.s !== 'inflate') throw new Error('endOfData() outside a deflated entry with a data descriptor');
    if (!Number.isInteger(unused) || unused < 0 || unused > st.last.length) throw new RangeError(`unused must be 0…${st.last.length}`);
    return this.#guard(() => {
      const cur = this.#cur!;
      cur.dataBytes -= unused;
      this.#pos -= unused;
      this.#state = { s: 'descriptor', expected: { crc: unpacked.crc >>> 0, compressedSize: cur.dataBytes, size: unpacked.size } };
      return this.#push(st.last.subarray(st.last.length - unused));
    });
  }

  /** Call at the end of the input: throws unless the zip ended properly. */
  finish(): void {
    if (this.#failure) throw this.#failure;
    if (this.#state.s !== 'done') throw (this.#failure = new WormholeError('RemoteProtocol', 'zip is truncated'));
  }

  #guard(step: () => ZipEvent[]): ZipEvent[] {
    if (this.#failure) throw this.#failure;
    try {
      return step();
    } catch (err) {
      this.#failure =
        err instanceof WormholeError ? err : new WormholeError('RemoteProtocol', `malformed zip: ${String(err)}`, { cause: err });
      throw this.#failure;
    }
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
          this.#pos += n;
          input = input.subarray(n);
        }
        if (st.left > 0) return events;
        const cur = this.#cur!;
        if (cur.descriptor) this.#state = { s: 'descriptor', expected: cur.header! };
        else this.#endEntry(events, cur.header!);
        continue;
      }
      if (st.s === 'inflate') {
        // Everything may be deflate data until the caller says where it ended.
        if (input.length > 0) {
          events.push({ type: 'data', bytes: input });
          st.last = input;
          this.#cur!.dataBytes += input.length;
          this.#pos += input.length;
        }
        return events;
      }
      if (st.s === 'scan') {
        input = this.#scan(st, input, events);
        if (this.#state === st) return events;
        continue;
      }
      if (st.s === 'done') {
        if (input.length > 0) throw new WormholeError('RemoteProtocol', 'malformed zip: data after the end record');
        return events;
      }
      // Header states: gather bytes until the structure is complete.
      this.#append(input);
      input = EMPTY;
      if (!this.#header(events)) {
        this.#buf = this.#buf.slice(); // keep our own copy, not a view of the caller's chunk
        return events;
      }
      // Whatever is left in #buf after a header flows on as input.
      input = this.#buf;
      this.#buf = EMPTY;
    }
  }

  /** Stored entry with a descriptor: hand out data up to the first position where a matching descriptor sits. */
  #scan(st: { hold: Uint8Array; crc: Crc32 }, input: Uint8Array, events: ZipEvent[]): Uint8Array {
    const cur = this.#cur!;
    const hold = st.hold.length === 0 ? input : concatBytes(st.hold, input);
    const { data, descriptor } = scanStoredData(hold, cur.dataBytes, st.crc);
    if (data > 0) {
      cur.dataBytes += data;
      this.#pos += data;
      if (this.#declared + cur.dataBytes > this.#maxTotal) throw this.#bomb();
      events.push({ type: 'data', bytes: hold.subarray(0, data) });
    }
    if (descriptor === 0) {
      st.hold = hold.slice(data); // our own copy of the undecided tail
      return EMPTY;
    }
    this.#pos += descriptor;
    this.#endEntry(events, { crc: st.crc.digest(), compressedSize: cur.dataBytes, size: cur.dataBytes });
    return hold.subarray(data + descriptor);
  }

  #endEntry(events: ZipEvent[], totals: ZipEntryTotals): void {
    const cur = this.#cur!;
    if (!cur.header) {
      this.#declared += totals.size;
      if (this.#declared > this.#maxTotal) throw this.#bomb();
    }
    this.#streamed.set(cur.offset, { name: cur.name, method: cur.method, offset: cur.offset, ...totals });
    events.push({ type: 'entry-end', ...totals });
    this.#cur = undefined;
    this.#state = { s: 'signature' };
  }

  #bomb(): WormholeError {
    return new WormholeError('RemoteProtocol', `zip expands to more than the ${this.#maxTotal} bytes offered (zip bomb?)`);
  }

  #append(input: Uint8Array): void {
    if (input.length === 0) return;
    this.#buf = this.#buf.length === 0 ? input : concatBytes(this.#buf, input);
    if (this.#buf.length > 3 * 65536 + 1024) {
      // No header we accept is this long; a peer dribbling junk cannot grow us.
      throw new WormholeError('RemoteProtocol', 'malformed zip: header too long');
    }
  }

  /** Parse one structure at the start of #buf. Returns false if more bytes are needed. */
  #header(events: ZipEvent[]): boolean {
    const b = this.#buf;
    const v = view(b);
    const need = (n: number) => b.length >= n;
    const consume = (n: number) => {
      this.#buf = b.subarray(n);
      this.#pos += n;
    };
    const st = this.#state;
    switch (st.s) {
      case 'signature': {
        if (!need(4)) return false;
        const sig = v.getUint32(0, true);
        if (sig === LOCAL_SIG && this.#cdStart === undefined) this.#state = { s: 'local' };
        else if (sig === CENTRAL_SIG) {
          this.#cdStart ??= this.#pos;
          this.#state = { s: 'central' };
        } else if (sig === EOCD_SIG || sig === ZIP64_EOCD_SIG || sig === ZIP64_LOCATOR_SIG) {
          const start = this.#cdStart ?? this.#pos;
          this.#cdStart = start;
          this.#cdTotals ??= { entries: this.#central.length, size: this.#pos - start, offset: start };
          this.#state = sig === EOCD_SIG ? { s: 'eocd' } : sig === ZIP64_EOCD_SIG ? { s: 'zip64-eocd' } : { s: 'zip64-locator' };
        } else throw new WormholeError('RemoteProtocol', `malformed zip: unexpected signature 0x${sig.toString(16)}`);
        return true;
      }
      case 'local':
        return this.#local(b, consume, events);
      case 'descriptor': {
        if (!need(DESCRIPTOR_LOOKAHEAD)) return false;
        const len = matchDescriptor(v, 0, st.expected);
        if (len === 0) {
          throw new WormholeError('RemoteProtocol', `zip entry ${quote(this.#cur!.name)} has a data descriptor that does not match its data (CRC or size)`);
        }
        consume(len);
        this.#endEntry(events, st.expected);
        return true;
      }
      case 'central': {
        const parsed = parseCentralRecord(b);
        if (!parsed) return false;
        if (this.#central.length >= this.#entries) throw new WormholeError('RemoteProtocol', 'malformed zip: more central records than entries');
        const { record } = parsed;
        checkCentralRecord(record, this.#streamed.get(record.offset));
        this.#streamed.delete(record.offset);
        this.#central.push({ name: record.name, mode: record.mode });
        consume(parsed.length);
        this.#state = { s: 'signature' };
        return true;
      }
      case 'zip64-eocd': {
        if (!need(12)) return false;
        const size = readU64(v, 4);
        if (size > 65536) throw new WormholeError('RemoteProtocol', 'malformed zip: huge zip64 end record');
        if (size < 44) throw new WormholeError('RemoteProtocol', 'malformed zip: short zip64 end record');
        if (!need(12 + size)) return false;
        checkZip64EndRecord(b, this.#cdTotals!);
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
        if (this.#central.length !== this.#entries) {
          throw new WormholeError('RemoteProtocol', `malformed zip: ${this.#entries} entries but ${this.#central.length} central records`);
        }
        checkEndRecord(b, this.#cdTotals!);
        consume(22 + commentLen);
        events.push({ type: 'central', entries: this.#central });
        events.push({ type: 'end' });
        this.#state = { s: 'done' };
        return true;
      }
      default:
        return false;
    }
  }

  #local(b: Uint8Array, consume: (n: number) => void, events: ZipEvent[]): boolean {
    const h = parseLocalHeader(b, () => {
      if (++this.#entries > this.#maxEntries) throw new WormholeError('RemoteProtocol', `zip has more than ${this.#maxEntries} entries`);
    });
    if (!h) return false;
    const { name, method, crc, compressedSize: csize, size, flags } = h;
    const descriptor = (flags & FLAG_DESCRIPTOR) !== 0;
    // With a descriptor the header's values are zero (the spec's rule); a
    // writer that filled them in anyway is read by them, and the descriptor
    // must repeat them.
    const known = !descriptor || csize !== 0 || size !== 0;
    const header = known ? { crc, compressedSize: csize, size } : undefined;
    if (header) {
      if (method === 0 && csize !== size) throw new WormholeError('RemoteProtocol', `stored zip entry ${quote(name)} has mismatched sizes`);
      this.#declared += size;
      if (this.#declared > this.#maxTotal) throw this.#bomb();
    }
    this.#cur = { offset: this.#pos, name, method, header, descriptor, dataBytes: 0 };
    consume(h.length);
    const end = header ? 'size' : method === 8 ? 'deflate' : 'scan';
    events.push({
      type: 'entry',
      entry: { name, method, crc: header?.crc, compressedSize: header?.compressedSize, size: header?.size, isDirectory: name.endsWith('/'), end },
    });
    this.#state = header ? { s: 'data', left: csize } : method === 8 ? { s: 'inflate', last: EMPTY } : { s: 'scan', hold: EMPTY, crc: new Crc32() };
    return true;
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
