/**
 * Transit records sealed and opened by the Worker pool (record-pool.ts),
 * several at once, delivered in counter order: the readable and writable of
 * a TransitConnection in a browser. The Node and fallback path (one record
 * at a time, synchronously) stays in connection.ts.
 */
import { bestEffort, observed, WormholeError, type RecordDecoder, type RecordEncoder, type RecordKeys } from '@burrow/protocol';
import { acquireRecordPool, type RecordPool } from './record-pool.js';

/** Records in flight per direction: enough to keep every Worker busy. */
const DEPTH = 8;

export interface PooledStreamsInit {
  pool: RecordPool;
  keys: RecordKeys;
  decoder: RecordDecoder;
  encoder: RecordEncoder;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  leftover: Uint8Array;
  /** Tear the connection down. */
  close(): void;
}

/** Records from the peer, opened by the pool, in order. Errors as connection.ts documents. */
export function pooledReadable(init: PooledStreamsInit): ReadableStream<Uint8Array> {
  const { pool, keys, decoder, reader, close } = init;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let failed = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const fail = (err: unknown) => {
          if (failed) return;
          failed = true;
          close();
          controller.error(err);
        };
        let tail: Promise<void> = Promise.resolve();
        let pending = 0;
        const dispatch = (chunk: Uint8Array) => {
          const records = decoder.pushSealed(chunk);
          if (records.length === 0) return;
          const first = records[0]!.index;
          pending += records.length;
          // The records a chunk completes go as one job; each box copied out, as it is transferred to a Worker.
          const job = pool.run('open', keys.receive, first, records.map((r) => r.box.slice()));
          job.catch(observed); // awaited in order below
          tail = tail.then(async () => {
            const plaintexts = await job;
            pending -= records.length;
            poke();
            for (const [i, plaintext] of plaintexts.entries()) {
              if (plaintext === null) throw decoder.authenticationFailed(first + i);
              if (!failed) controller.enqueue(plaintext);
            }
          });
          tail.catch(fail);
        };
        const pump = async () => {
          if (init.leftover.length > 0) dispatch(init.leftover);
          while (!failed) {
            while (!failed && (pending >= DEPTH || (controller.desiredSize ?? 1) <= 0)) await new Promise<void>((r) => (wake = r));
            if (failed) return;
            let chunk: ReadableStreamReadResult<Uint8Array>;
            try {
              chunk = await reader.read();
            } catch (cause) {
              fail(new WormholeError('TransferFailed', 'transit connection lost', { cause }));
              return;
            }
            if (chunk.done) {
              await tail;
              if (decoder.buffered > 0) fail(new WormholeError('TransferFailed', 'transit connection closed in the middle of a record'));
              else if (!failed) controller.close();
              return;
            }
            dispatch(chunk.value);
          }
        };
        pump().catch(fail);
      },
      pull() {
        poke();
      },
      cancel() {
        failed = true;
        poke();
        close();
      },
    },
    { highWaterMark: DEPTH },
  );
}

/** Records to the peer, sealed by the pool, written in order; each chunk is one record. */
export function pooledWritable(init: PooledStreamsInit): WritableStream<Uint8Array> {
  const { pool, keys, encoder, writer, close } = init;
  const inflight: Promise<void>[] = [];
  let tail: Promise<void> = Promise.resolve();
  let error: WormholeError | undefined;
  const lost = (cause: unknown) => {
    if (!error) {
      error = cause instanceof WormholeError ? cause : new WormholeError('TransferFailed', 'transit connection lost while sending', { cause });
      close();
    }
    return error;
  };
  const settle = async (p: Promise<void>) => {
    try {
      await p;
    } catch (cause) {
      throw lost(cause);
    }
  };
  return new WritableStream<Uint8Array>(
    {
      async write(record) {
        if (error) throw error;
        const index = encoder.next(record);
        const frame = pool.run('seal', keys.send, index, [record.slice()]);
        frame.catch(observed); // awaited in order below
        tail = tail.then(async () => {
          await writer.write((await frame)[0]!);
        });
        inflight.push(tail);
        tail.catch(lost);
        if (inflight.length >= DEPTH) await settle(inflight.shift()!);
      },
      async close() {
        await settle(tail);
        await writer.close().catch(bestEffort);
      },
      abort() {
        close();
      },
    },
    { highWaterMark: 1 },
  );
}

/** Both streams over the shared pool; `release` gives the pool back (on close). */
export function pooledStreams(init: Omit<PooledStreamsInit, 'pool'>): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array>; release(): void } {
  const pool = acquireRecordPool();
  const full = { ...init, pool };
  return { readable: pooledReadable(full), writable: pooledWritable(full), release: () => pool.release() };
}
