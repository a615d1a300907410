/**
 * Transit v1 record framing, sans-I/O. A record on the wire is
 * `length(4, big-endian) ‖ nonce(24) ‖ secretbox ciphertext`, where `length`
 * counts nonce and ciphertext and the nonce is a big-endian counter that
 * starts at 0 in each direction. The receiver insists on the next counter
 * value, as Python does (`BadNonce`).
 */

import { abytes } from '../bytes.js';
import { WormholeError } from '../errors.js';
import { KEY_LENGTH, type RecordKey } from '../keys.js';
import { BOX_OVERHEAD, NONCE_LENGTH } from '../secretbox.js';
import { nobleSecretBox, type SecretBox } from './record-box.js';

/** Bytes of the length prefix. */
export const LENGTH_PREFIX = 4;
/** Bytes a record adds to its plaintext on the wire: prefix, nonce, MAC. */
export const RECORD_OVERHEAD = LENGTH_PREFIX + BOX_OVERHEAD;
/** Default bound on a frame's `length` field (nonce + ciphertext). Python has none. */
export const DEFAULT_MAX_RECORD_LENGTH = 16 * 1024 * 1024;
/** Largest value the 4-byte length can carry. */
const MAX_FRAME = 0xffff_ffff;

/** Write the 24-byte big-endian encoding of `counter` (< 2^53) into `nonce`. */
function setCounterNonce(nonce: Uint8Array, counter: number): Uint8Array {
  const view = new DataView(nonce.buffer, nonce.byteOffset, NONCE_LENGTH);
  view.setUint32(NONCE_LENGTH - 8, Math.floor(counter / 0x1_0000_0000));
  view.setUint32(NONCE_LENGTH - 4, counter >>> 0);
  return nonce;
}

/**
 * Seal one record into its full wire frame, built in one buffer: the box
 * seals in place, then length prefix and nonce are written in front. What
 * {@link RecordEncoder.encode} does once it has the nonce; exported so
 * records can be sealed off the main thread, nonces being known in advance.
 */
export function sealRecord(box: SecretBox, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const frame = new Uint8Array(RECORD_OVERHEAD + plaintext.length);
  sealRecordInto(box, key, nonce, plaintext, frame, 0);
  return frame;
}

/** {@link sealRecord} into `out` at `offset` (room for `plaintext.length + RECORD_OVERHEAD` bytes); returns the frame's length. */
function sealRecordInto(box: SecretBox, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
  const length = plaintext.length + BOX_OVERHEAD;
  box.seal(out, offset + LENGTH_PREFIX + NONCE_LENGTH, plaintext, nonce, key);
  out[offset] = length >>> 24;
  out[offset + 1] = (length >>> 16) & 0xff;
  out[offset + 2] = (length >>> 8) & 0xff;
  out[offset + 3] = length & 0xff;
  out.set(nonce, offset + LENGTH_PREFIX);
  return LENGTH_PREFIX + length;
}

/** A framed record whose nonce was checked, not yet opened. */
export interface SealedRecord {
  /** Its counter (= position in the stream). */
  readonly index: number;
  /** `mac ‖ ciphertext`. */
  readonly box: Uint8Array;
}

/** The 24-byte nonce of record `index`. */
export function recordNonce(index: number): Uint8Array {
  return setCounterNonce(new Uint8Array(NONCE_LENGTH), index);
}

export interface RecordCodecOptions {
  /** The secretbox that seals/opens records. Default: noble (pure JS). */
  secretBox?: SecretBox;
}

/**
 * Frames outgoing records.
 *
 * @example
 * const enc = new RecordEncoder(keys.send);
 * socket.write(enc.encode(utf8('first record')));
 */
export class RecordEncoder {
  readonly #key: RecordKey;
  readonly #box: SecretBox;
  readonly #nonce = new Uint8Array(NONCE_LENGTH);
  #counter = 0;

  constructor(key: RecordKey, options: RecordCodecOptions = {}) {
    abytes(key, 'key', KEY_LENGTH);
    this.#key = key;
    this.#box = options.secretBox ?? nobleSecretBox;
  }

  /** How many records were encoded so far (= the next nonce). */
  get count(): number {
    return this.#counter;
  }

  /** Encrypt one record and return its full wire frame ({@link sealRecord}). */
  encode(plaintext: Uint8Array): Uint8Array {
    return sealRecord(this.#box, this.#key, setCounterNonce(this.#nonce, this.next(plaintext)), plaintext);
  }

  /**
   * Encrypt one record into `out` at `offset` — its whole wire frame, the
   * same bytes {@link encode} returns — and return the frame's length
   * (`plaintext.length + RECORD_OVERHEAD`). Lets a writer seal many records
   * back to back into one reused buffer. `plaintext` must not overlap `out`.
   */
  encodeInto(plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    abytes(out, 'out');
    if (!Number.isInteger(offset) || offset < 0 || offset + plaintext.length + RECORD_OVERHEAD > out.length) {
      throw new RangeError('out has no room for the record at offset');
    }
    return sealRecordInto(this.#box, this.#key, setCounterNonce(this.#nonce, this.next(plaintext)), plaintext, out, offset);
  }

  /**
   * Claim the next counter for `plaintext` without sealing it (the caller
   * seals it elsewhere with {@link sealRecord} and {@link recordNonce}, and
   * sends the frames in counter order).
   */
  next(plaintext: Uint8Array): number {
    abytes(plaintext, 'plaintext');
    if (plaintext.length + BOX_OVERHEAD > MAX_FRAME) throw new RangeError(`plaintext must be at most ${MAX_FRAME - BOX_OVERHEAD} bytes`);
    if (this.#counter >= Number.MAX_SAFE_INTEGER) throw new RangeError('record counter exhausted');
    return this.#counter++;
  }
}

export interface RecordDecoderOptions extends RecordCodecOptions {
  /** Largest acceptable `length` field (nonce + ciphertext). Default {@link DEFAULT_MAX_RECORD_LENGTH}. */
  maxRecordLength?: number;
  /**
   * Copy each pushed chunk (default true). Pass false when the caller hands
   * the chunk over and never writes to it again (a socket's fresh read
   * buffers): records are then framed with no copy.
   */
  copyInput?: boolean;
}

/**
 * Incremental decoder for incoming records: feed it whatever byte chunks the
 * transport delivers; it returns the records they complete.
 * An oversized or undersized length, a nonce other than the expected counter
 * or a failed MAC throw `WormholeError('RemoteProtocol')`; after that every
 * call throws the same error.
 *
 * @example
 * const dec = new RecordDecoder(keys.receive);
 * for (const record of dec.push(chunk)) handle(record);
 */
export class RecordDecoder {
  readonly #key: RecordKey;
  readonly #maxRecordLength: number;
  readonly #box: SecretBox;
  readonly #copyInput: boolean;
  readonly #expected = new Uint8Array(NONCE_LENGTH);
  /** Unconsumed input: owned copies, the first one read from `#offset`. */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  #counter = 0;
  #failure: WormholeError | undefined;

  constructor(key: RecordKey, options: RecordDecoderOptions = {}) {
    abytes(key, 'key', KEY_LENGTH);
    const max = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
    if (typeof max !== 'number') throw new TypeError('maxRecordLength must be a number');
    if (!Number.isInteger(max) || max < BOX_OVERHEAD || max > MAX_FRAME) {
      throw new RangeError(`maxRecordLength must be an integer in ${BOX_OVERHEAD}..${MAX_FRAME}`);
    }
    this.#key = key;
    this.#maxRecordLength = max;
    this.#box = options.secretBox ?? nobleSecretBox;
    this.#copyInput = options.copyInput ?? true;
  }

  /** Bytes received but not yet part of a complete record. */
  get buffered(): number {
    return this.#buffered;
  }

  /** How many records were decoded so far (= the next expected nonce). */
  get count(): number {
    return this.#counter;
  }

  /**
   * Add received bytes; returns the plaintexts of the records now complete
   * (often none). On failure it throws instead, and records completed by the
   * same chunk are dropped with the connection.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    return this.pushSealed(chunk).map((r) => this.#open(r));
  }

  /**
   * Like {@link push}, but the records come back framed and nonce-checked,
   * not opened: the caller opens them (`box.open(r.box, recordNonce(r.index), key)`,
   * in any order or in parallel) and reports a failure with
   * {@link authenticationFailed}.
   */
  pushSealed(chunk: Uint8Array): SealedRecord[] {
    abytes(chunk, 'chunk');
    if (this.#failure) throw this.#failure;
    if (chunk.length > 0) {
      this.#chunks.push(this.#copyInput ? chunk.slice() : chunk);
      this.#buffered += chunk.length;
    }
    const records: SealedRecord[] = [];
    while (this.#buffered >= LENGTH_PREFIX) {
      const length = this.#length();
      if (length > this.#maxRecordLength) {
        throw this.#fail(`record length ${length} exceeds the limit of ${this.#maxRecordLength}`);
      }
      if (length < BOX_OVERHEAD) throw this.#fail(`record length ${length} is shorter than nonce and MAC`);
      if (this.#buffered < LENGTH_PREFIX + length) break;
      this.#take(LENGTH_PREFIX);
      records.push(this.#checkNonce(this.#take(length)));
    }
    return records;
  }

  /** The error for record `index` failing its MAC; the decoder is failed from then on. */
  authenticationFailed(index: number): WormholeError {
    return this.#fail(`record ${index} failed authentication`);
  }

  #checkNonce(frame: Uint8Array): SealedRecord {
    const expected = setCounterNonce(this.#expected, this.#counter);
    const nonce = frame.subarray(0, NONCE_LENGTH);
    for (let i = 0; i < NONCE_LENGTH; i++) {
      if (nonce[i] === expected[i]) continue;
      const got = nonce.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
      throw this.#fail(`record out of order: got nonce ${got}, expected ${this.#counter}`);
    }
    return { index: this.#counter++, box: frame.subarray(NONCE_LENGTH) };
  }

  #open(record: SealedRecord): Uint8Array {
    if (this.#failure) throw this.#failure;
    const plaintext = this.#box.open(record.box, setCounterNonce(this.#expected, record.index), this.#key);
    if (plaintext === undefined) throw this.authenticationFailed(record.index);
    return plaintext;
  }

  #fail(message: string): WormholeError {
    this.#failure = new WormholeError('RemoteProtocol', `transit: ${message}`);
    this.#chunks = [];
    this.#offset = 0;
    this.#buffered = 0;
    return this.#failure;
  }

  /** The next frame's length field (≥ 4 bytes buffered), read in place when it is inside one chunk. */
  #length(): number {
    const first = this.#chunks[0]!;
    const at = this.#offset;
    if (first.length - at >= LENGTH_PREFIX) return ((first[at]! << 24) | (first[at + 1]! << 16) | (first[at + 2]! << 8) | first[at + 3]!) >>> 0;
    return new DataView(this.#peek(LENGTH_PREFIX).buffer).getUint32(0);
  }

  /**
   * Whether the next `n` buffered bytes lie back to back in one buffer
   * (uncopied chunks a reader filled one after another in the same slab):
   * then a record spanning them is a view, not a copy.
   */
  #adjacent(n: number): boolean {
    const first = this.#chunks[0]!;
    let end = first.byteOffset + first.length;
    let have = first.length - this.#offset;
    for (let i = 1; have < n; i++) {
      const c = this.#chunks[i]!;
      if (c.buffer !== first.buffer || c.byteOffset !== end) return false;
      end += c.length;
      have += c.length;
    }
    return true;
  }

  /** Copy of the next `n` buffered bytes (n ≤ buffered), without consuming them. */
  #peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    let offset = this.#offset;
    for (const c of this.#chunks) {
      const part = c.subarray(offset, offset + n - filled);
      out.set(part, filled);
      filled += part.length;
      offset = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Consume and return the next `n` buffered bytes (n ≤ buffered). */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length - this.#offset >= n) {
      // Fast path: inside one chunk, no copy.
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return out;
    }
    const out = !this.#copyInput && this.#adjacent(n) ? new Uint8Array(first.buffer, first.byteOffset + this.#offset, n) : this.#peek(n);
    this.#advance(n);
    return out;
  }

  #advance(n: number): void {
    this.#buffered -= n;
    let left = n;
    let done = 0; // whole chunks consumed
    for (;;) {
      const avail = this.#chunks[done]!.length - this.#offset;
      if (avail > left) {
        this.#offset += left;
        break;
      }
      left -= avail;
      done++;
      this.#offset = 0;
      if (left === 0) break;
    }
    if (done > 0) this.#chunks.splice(0, done);
  }
}
