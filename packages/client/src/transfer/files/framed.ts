/**
 * A files-v1 stream as frames and raw bytes: frames are 4-byte big-endian
 * length + body (`@burrow/protocol/files`), the file's bytes go unframed
 * between two of them, their count known from the `send` frame.
 */
import { WormholeError } from '@burrow/protocol';
import { abortableReads } from '../common.js';
import { encodeFrame } from '@burrow/protocol/files';

/**
 * Reads frames and counted raw bytes from one stream. An abort of `signal`
 * fails the read under way: one listener for the reader's life (added and
 * removed per read, it cost a scan of the signal's listeners for every
 * chunk), dropped by `dispose()`.
 */
export class FramedReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #reads: ReturnType<typeof abortableReads<Uint8Array>>;
  #buffered: Uint8Array = new Uint8Array(0);

  constructor(readable: ReadableStream<Uint8Array>, signal?: AbortSignal) {
    this.#reader = readable.getReader();
    this.#reads = abortableReads(this.#reader, signal);
  }

  /** The next chunk (buffered first); undefined at the end of the stream. */
  async #chunk(): Promise<Uint8Array | undefined> {
    if (this.#buffered.length) {
      const b = this.#buffered;
      this.#buffered = new Uint8Array(0);
      return b;
    }
    const r = await this.#reads.read();
    return r.done ? undefined : r.value;
  }

  /** Exactly `n` bytes, joined; throws `TransferFailed` if the stream ends first. */
  async #exactly(n: number, what: string): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = await this.#chunk();
      if (!c) throw new WormholeError('Connection', `the stream ended inside ${what}`);
      const take = Math.min(n - filled, c.length);
      out.set(c.subarray(0, take), filled);
      filled += take;
      if (take < c.length) this.#buffered = c.subarray(take);
    }
    return out;
  }

  /** The next frame's body, or undefined at a clean end of the stream. Refuses frames over `max` bytes. */
  async frame(max: number): Promise<Uint8Array | undefined> {
    const first = await this.#chunk();
    if (!first) return undefined;
    this.#buffered = first;
    const head = await this.#exactly(4, 'a frame header');
    const length = new DataView(head.buffer).getUint32(0);
    if (length > max) throw new WormholeError('RemoteProtocol', `files-v1: frame of ${length} bytes is over the limit of ${max}`, { blame: 'peer' });
    return this.#exactly(length, 'a frame');
  }

  /** Hand exactly `n` raw bytes to `onChunk`, in the pieces they came in. */
  async bytes(n: number, onChunk: (chunk: Uint8Array) => Promise<void> | void): Promise<void> {
    let left = n;
    while (left > 0) {
      const c = await this.#chunk();
      if (!c) throw new WormholeError('Connection', `the stream ended ${left} bytes before the end of the file`);
      const piece = c.length > left ? c.subarray(0, left) : c;
      if (c.length > left) this.#buffered = c.subarray(left);
      left -= piece.length;
      await onChunk(piece);
    }
  }

  release(): void {
    this.dispose();
    this.#reader.releaseLock();
  }

  /** Stop listening to the signal (the stream is done with). */
  dispose(): void {
    this.#reads.dispose();
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason);
  }
}

/** Write one JSON message as a frame. */
export function writeFrame(writer: WritableStreamDefaultWriter<Uint8Array>, message: Record<string, unknown>): Promise<void> {
  return writer.write(encodeFrame(message));
}
