/**
 * An established Transit connection as two Web Streams of records: what is
 * written to `writable` arrives, one record per chunk, on the peer's
 * `readable`. Records are sealed with the per-direction record keys and
 * big-endian counter nonces (`@burrow/protocol` RecordEncoder/Decoder).
 * With a given `secretBox` (Node: libsodium) records are sealed and opened
 * here, one at a time; without one, where Workers run (browsers), a Worker
 * pool does it in parallel off the main thread (record-pipeline.ts); else
 * noble on this thread. Over a channel with a `send` fast path (Node TCP)
 * records go out sealed in batches (record-batch.ts).
 */
import { bestEffort } from '@burrow/protocol';
import { RecordDecoder, RecordEncoder, WormholeError, type RecordKeys, type SecretBox } from '@burrow/protocol';
import { batchedRecordWritable } from './record-batch.js';
import { forwardReadable, forwardWritable, workersAvailable } from './record-forward.js';
import type { ByteChannel } from './types.js';

export type TransitKind = 'direct' | 'relay';

export interface TransitConnectionInit {
  channel: ByteChannel;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  leftover: Uint8Array;
  keys: RecordKeys;
  kind: TransitKind;
  description: string;
  maxRecordLength?: number;
  /** Seals and opens the records here. Default: the Worker pool where Workers run, else noble here. */
  secretBox?: SecretBox;
}

export class TransitConnection {
  readonly kind: TransitKind;
  /** Human-readable: `->tcp:127.0.0.1:4001`, `<-127.0.0.1:51234`, `->relay:tcp:…`. */
  readonly description: string;
  /** Records from the peer. Errors with `RemoteProtocol` (bad record) or `TransferFailed` (connection lost mid-record). */
  readonly readable: ReadableStream<Uint8Array>;
  /** Records to the peer; each chunk becomes one record. */
  readonly writable: WritableStream<Uint8Array>;
  /** True when a chunk written is sealed (copied) by the time its write settles, so its buffer may be reused then. */
  readonly copiesWrites: boolean;
  readonly #channel: ByteChannel;
  readonly #nextRecords: () => Promise<Uint8Array[] | null>;
  /** Gives the Worker pool back, when this connection took it. */
  #release: (() => void) | undefined;
  #closed = false;

  constructor(init: TransitConnectionInit) {
    this.kind = init.kind;
    this.description = init.description;
    this.#channel = init.channel;
    const { reader, writer } = init;
    const box = init.secretBox === undefined ? {} : { secretBox: init.secretBox };
    // Channels enqueue fresh read buffers they never touch again, so the decoder frames them without a copy.
    const decoder = new RecordDecoder(init.keys.receive, {
      ...box,
      copyInput: false,
      ...(init.maxRecordLength === undefined ? {} : { maxRecordLength: init.maxRecordLength }),
    });
    const encoder = new RecordEncoder(init.keys.send, box);
    const close = () => this.close();
    if (init.secretBox === undefined && workersAvailable()) {
      // Loaded on the first transfer only: keeps the pool out of the initial bundle.
      const pooled = import('./record-pipeline.js').then((m) => {
        const streams = m.pooledStreams({ keys: init.keys, decoder, encoder, reader, writer, leftover: init.leftover, close });
        this.#release = streams.release;
        if (this.#closed) streams.release();
        return streams;
      });
      this.copiesWrites = false; // the pool may transfer the chunk to a Worker
      this.readable = forwardReadable(pooled.then((s) => s.readable));
      this.writable = forwardWritable(pooled.then((s) => s.writable));
      let records: ReadableStreamDefaultReader<Uint8Array> | undefined;
      this.#nextRecords = async () => {
        records ??= this.readable.getReader();
        const r = await records.read();
        return r.done ? null : [r.value];
      };
      return;
    }
    // Both writables below seal the record (a copy) before its write settles.
    this.copiesWrites = true;
    let early: Uint8Array[] = [];
    let earlyError: unknown;
    try {
      early = init.leftover.length > 0 ? decoder.push(init.leftover) : [];
    } catch (err) {
      earlyError = err;
    }
    /** The records of the next read from the channel (or those framed already), `null` at its end. */
    const next = async (): Promise<Uint8Array[] | null> => {
      if (earlyError !== undefined) {
        close();
        throw earlyError;
      }
      for (;;) {
        if (early.length > 0) {
          const records = early;
          early = [];
          return records;
        }
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (cause) {
          close();
          throw new WormholeError('TransferFailed', 'transit connection lost', { cause });
        }
        if (chunk.done) {
          if (decoder.buffered === 0) return null;
          close();
          throw new WormholeError('TransferFailed', 'transit connection closed in the middle of a record');
        }
        try {
          early = decoder.push(chunk.value);
        } catch (err) {
          close();
          throw err;
        }
      }
    };
    let batchReads = false;
    this.#nextRecords = () => {
      if (this.readable.locked && !batchReads) return Promise.reject(new WormholeError('Usage', 'records are already read from `readable`'));
      batchReads = true;
      return next();
    };

    this.readable = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (batchReads) {
            controller.error(new WormholeError('Usage', 'records are read with readRecords()'));
            return;
          }
          try {
            const records = await next();
            if (records === null) controller.close();
            else for (const r of records) controller.enqueue(r);
          } catch (err) {
            controller.error(err);
          }
        },
        cancel() {
          close();
        },
      },
      { highWaterMark: 0 },
    );

    const send = init.channel.send?.bind(init.channel);
    if (send) {
      this.writable = batchedRecordWritable({ encoder, send, writer, close });
      return;
    }
    this.writable = new WritableStream<Uint8Array>(
      {
        async write(record) {
          try {
            await writer.write(encoder.encode(record));
          } catch (cause) {
            close();
            throw new WormholeError('TransferFailed', 'transit connection lost while sending', { cause });
          }
        },
        async close() {
          await writer.close().catch(bestEffort);
        },
        abort() {
          close();
        },
      },
      { highWaterMark: 1 },
    );
  }

  /**
   * The next records from the peer — every one that has arrived, at least
   * one — or `null` at the end: for bulk receivers, one await per read from
   * the connection instead of one stream read per record. Fails as
   * `readable` does. Read the records here or from `readable`, not both.
   */
  readRecords(): Promise<Uint8Array[] | null> {
    return this.#nextRecords();
  }

  /** Close both directions now. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
    this.#release?.();
  }
}
