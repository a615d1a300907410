/**
 * Length-prefixed frames (4-byte big-endian length, then the bytes), as the
 * mailbox uses them over a WebTransport stream. Sans I/O; shared by the
 * client transport and the gateway.
 */

/**
 * Length-prefixed frames from a byte stream, incrementally and sans I/O.
 * The body of a frame is allocated once its length is known and is never
 * larger than `maxFrameBytes`; chunks are copied once.
 *
 * @example
 *   const p = new LengthPrefixedParser(1024);
 *   p.push(Uint8Array.of(0, 0, 0, 2, 0x7b));  // → []
 *   p.push(Uint8Array.of(0x7d));              // → [Uint8Array [0x7b, 0x7d]]
 */
export class LengthPrefixedParser {
  readonly #max: number;
  readonly #header = new Uint8Array(4);
  #headerFilled = 0;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;

  constructor(maxFrameBytes: number) {
    if (!Number.isSafeInteger(maxFrameBytes)) throw new TypeError('maxFrameBytes must be an integer');
    if (maxFrameBytes < 0 || maxFrameBytes > 0xffffffff) throw new RangeError('maxFrameBytes must be between 0 and 2^32 - 1');
    this.#max = maxFrameBytes;
  }

  /** Bytes received towards the frame in progress (header included). */
  get pending(): number {
    return this.#headerFilled + this.#bodyFilled;
  }

  /**
   * Feed bytes; returns the frames they complete. Throws a RangeError, before
   * buffering any of its body, for a frame announced over the limit; the
   * parser is unusable after that.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    return [...this.feed(chunk)];
  }

  /** Like {@link push}, but yields each frame as it completes, so frames before an oversized one are still seen. */
  *feed(chunk: Uint8Array): Generator<Uint8Array, void, undefined> {
    let at = 0;
    while (at < chunk.length) {
      if (this.#body === undefined) {
        const take = Math.min(4 - this.#headerFilled, chunk.length - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerFilled);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled < 4) break;
        const length = ((this.#header[0]! << 24) | (this.#header[1]! << 16) | (this.#header[2]! << 8) | this.#header[3]!) >>> 0;
        if (length > this.#max) throw new RangeError(`frame of ${length} bytes is over the limit of ${this.#max}`);
        this.#body = new Uint8Array(length);
        this.#bodyFilled = 0;
      }
      const take = Math.min(this.#body.length - this.#bodyFilled, chunk.length - at);
      this.#body.set(chunk.subarray(at, at + take), this.#bodyFilled);
      this.#bodyFilled += take;
      at += take;
      if (this.#bodyFilled === this.#body.length) {
        const body = this.#body;
        this.#body = undefined;
        this.#bodyFilled = 0;
        this.#headerFilled = 0;
        yield body;
      }
    }
  }
}

/** One frame: 4-byte big-endian length, then the payload. */
export function encodeLengthPrefixed(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffffffff) throw new RangeError('payload must be shorter than 2^32 bytes');
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}
